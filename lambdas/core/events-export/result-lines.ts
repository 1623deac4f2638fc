import { ByteLoopTransform } from '../shared/byte-loop-transform.ts';

/**
 * Turns a one-column query result CSV (Athena quotes every field, DuckDB only where
 * needed; RFC 4180 either way) into the field values, each followed by `terminator`,
 * skipping the header. The partition query already built each line of the export
 * file (sql.ts), so this is the only work between the engine's output and gzip.
 *
 * Why by hand and not csv-parse: csv-parse reads any CSV, character by character,
 * and hands out each record as an object; for 10M lines of JSON that was the
 * slowest stage of the export. Knowing there is one column, this is a byte loop
 * that copies a field's bytes and halves its doubled quotes, never decoding UTF-8
 * (a quote, comma, CR or LF byte never occurs inside a multi-byte character). Its
 * tests compare it with csv-parse over random values cut at random chunk bounds.
 */
export class ResultLinesDecoder extends ByteLoopTransform {
  private readonly terminator: Buffer;
  private readonly header: Buffer;
  private state: State = State.Start;
  /** The header's bytes while it is read; undefined once it has been checked. */
  private headerBytes: number[] | undefined = [];
  private count = 0;

  constructor(options: { readonly header: string; readonly terminator: '\n' | '\r\n' }) {
    super();
    this.header = Buffer.from(options.header, 'utf8');
    this.terminator = Buffer.from(options.terminator, 'latin1');
  }

  /** Lines written so far (final once the stream has ended). */
  get lines(): number {
    return this.count;
  }

  protected override flushBytes(): Buffer {
    if (this.state === State.Quoted) throw new Error('the query result ends inside a quoted field');
    const out = Buffer.allocUnsafe(this.terminator.length);
    let written = 0;
    if (this.state !== State.Start) written = this.endField(out, 0);
    if (this.headerBytes !== undefined) throw new Error('the query result is empty: it has no header');
    return out.subarray(0, written);
  }

  protected override transformBytes(chunk: Buffer): Buffer {
    // A record's output is never longer than its input but for a CRLF terminator
    // replacing an LF after an unquoted field: one byte per line at most.
    const out = Buffer.allocUnsafe(chunk.length * (this.terminator.length === 1 ? 1 : 2) + this.terminator.length);
    let pos = 0;
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      switch (this.state) {
        case State.Start: {
          const byte = chunk[i] as number;
          if (byte === QUOTE) {
            this.state = State.Quoted;
            i += 1;
          } else if (byte === CR || byte === LF) {
            i += 1; // no record is an empty line
          } else {
            this.state = State.Unquoted;
          }
          break;
        }
        case State.Quoted: {
          if (this.headerBytes !== undefined) {
            while (i < n && chunk[i] !== QUOTE) this.headerBytes.push(chunk[i++] as number);
            if (i < n) {
              this.state = State.QuoteInQuoted;
              i += 1;
            }
            break;
          }
          // The hot loop: copy bytes, halve doubled quotes, stop at the closing quote.
          let state: State = State.Quoted;
          while (i < n) {
            const byte = chunk[i] as number;
            if (byte !== QUOTE) {
              out[pos++] = byte;
              i += 1;
            } else if (i + 1 === n) {
              state = State.QuoteInQuoted;
              i += 1;
            } else if (chunk[i + 1] === QUOTE) {
              out[pos++] = QUOTE;
              i += 2;
            } else {
              state = State.AfterField;
              i += 1;
              break;
            }
          }
          this.state = state;
          break;
        }
        case State.QuoteInQuoted: {
          // A quote inside a quoted field is doubled (one literal quote) or ends the field.
          if (chunk[i] === QUOTE) {
            if (this.headerBytes !== undefined) this.headerBytes.push(QUOTE);
            else out[pos++] = QUOTE;
            this.state = State.Quoted;
            i += 1;
          } else {
            this.state = State.AfterField;
          }
          break;
        }
        case State.Unquoted: {
          const byte = chunk[i] as number;
          if (byte === CR || byte === LF) {
            this.state = State.AfterField;
          } else if (byte === QUOTE || byte === COMMA) {
            throw new Error('the query result is not one column of text');
          } else {
            if (this.headerBytes !== undefined) this.headerBytes.push(byte);
            else out[pos++] = byte;
            i += 1;
          }
          break;
        }
        case State.AfterField: {
          const byte = chunk[i] as number;
          if (byte === LF) {
            pos = this.endField(out, pos);
          } else if (byte !== CR) {
            throw new Error('the query result is not one column of text');
          }
          i += 1;
          break;
        }
      }
    }
    return out.subarray(0, pos);
  }

  /** Ends the current record: checks the header, or terminates the line. Returns the new output position. */
  private endField(out: Buffer, pos: number): number {
    this.state = State.Start;
    if (this.headerBytes !== undefined) {
      const header = Buffer.from(this.headerBytes);
      if (!header.equals(this.header)) {
        throw new Error(
          `the query result's header is ${JSON.stringify(header.toString('utf8').slice(0, 40))}, not "${this.header.toString('utf8')}"`,
        );
      }
      this.headerBytes = undefined;
      return pos;
    }
    this.count += 1;
    return pos + this.terminator.copy(out, pos);
  }
}

const State = { Start: 0, Quoted: 1, QuoteInQuoted: 2, Unquoted: 3, AfterField: 4 } as const;
type State = (typeof State)[keyof typeof State];

const QUOTE = 0x22;
const COMMA = 0x2c;
const CR = 0x0d;
const LF = 0x0a;
