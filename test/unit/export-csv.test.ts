import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { describe, expect, it } from 'vitest';
import { ExportCsvEncoder } from '../../lambdas/core/shared/export-csv.ts';
import { referenceExportCsv } from '../support/csv-reference.ts';

/** Feeds `source` to the encoder in the given chunks (byte lengths, cycled). */
async function reencode(
  source: string | Buffer,
  header: readonly string[],
  chunkSizes: readonly number[] = [1 << 16],
): Promise<{ text: string; rows: number }> {
  const bytes = Buffer.isBuffer(source) ? source : Buffer.from(source, 'utf8');
  const pieces: Buffer[] = [];
  for (let at = 0, k = 0; at < bytes.length; k += 1) {
    const size = Math.max(1, chunkSizes[k % chunkSizes.length] as number);
    pieces.push(bytes.subarray(at, at + size));
    at += size;
  }
  const encoder = new ExportCsvEncoder(header);
  const out: Buffer[] = [];
  encoder.on('data', (chunk: Buffer) => out.push(chunk));
  await pipeline(Readable.from(pieces), encoder);
  return { text: Buffer.concat(out).toString('utf8'), rows: encoder.rows };
}

/** A small deterministic generator, so that a failing case can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const ALPHABET = ['a', 'Z', '0', ' ', ',', '"', '\n', '\r', '\r\n', '#', 'é', '日本', '🚀', "'", ';'];

function randomValue(next: () => number): string {
  const length = Math.floor(next() * 8);
  let value = '';
  for (let i = 0; i < length; i += 1) value += ALPHABET[Math.floor(next() * ALPHABET.length)];
  return value;
}

describe('the export CSV encoding', () => {
  it('re-encodes Athena-style fully quoted CSV as RFC 4180 with CRLF, quoting only where needed', async () => {
    const athena = '"Company ID","Company Name"\n"c1","Acme, Inc."\n"c2","Plain"\n"c3",""\n';
    const { text, rows } = await reencode(athena, ['Company ID', 'Company Name']);
    expect(text).toBe('Company ID,Company Name\r\nc1,"Acme, Inc."\r\nc2,Plain\r\nc3,\r\n');
    expect(rows).toBe(3);
  });

  it('keeps values with line breaks and quotes in one field', async () => {
    const source = 'Company ID,Company Name\nc1,"Line\nBreak"\nc2,"Carriage\rReturn"\nc3,"Say ""hi"""\n';
    const { text } = await reencode(source, ['Company ID', 'Company Name']);
    // Quoted in the bytes, not just readable by a lenient parser.
    expect(text).toBe('Company ID,Company Name\r\nc1,"Line\nBreak"\r\nc2,"Carriage\rReturn"\r\nc3,"Say ""hi"""\r\n');
    expect(parse(text, { record_delimiter: '\r\n' })).toEqual([
      ['Company ID', 'Company Name'],
      ['c1', 'Line\nBreak'],
      ['c2', 'Carriage\rReturn'],
      ['c3', 'Say "hi"'],
    ]);
  });

  it('writes exactly what csv-parse into csv-stringify wrote, for random values, both quoting styles, any chunking', async () => {
    const header = ['Company ID', 'Company Name', 'Segment Names'];
    for (let seed = 1; seed <= 60; seed += 1) {
      const next = random(seed);
      const records = [
        header,
        ...Array.from({ length: 1 + Math.floor(next() * 30) }, () => header.map(() => randomValue(next))),
      ];
      // Athena quotes every field and ends lines with LF; DuckDB quotes where needed.
      const source =
        seed % 2 === 0
          ? `${records.map((record) => record.map((v) => `"${v.replaceAll('"', '""')}"`).join(',')).join('\n')}\n`
          : stringify(records, { quoted_match: /[\r\n#]/ });
      const chunkSizes = [1 + Math.floor(next() * 7), 1 + Math.floor(next() * 300), 1];
      const { text, rows } = await reencode(source, header, chunkSizes);
      expect(text, `seed ${seed}`).toBe(await referenceExportCsv(source));
      expect(rows).toBe(records.length - 1);
    }
  });

  it('copies whole plain records as they are and re-encodes the rest, whatever the chunk bounds', async () => {
    // DuckDB's rows: most fields hold nothing to quote, so most records take the copy path.
    const header = ['Company ID', 'Company Name', 'Segment Names', 'Segment IDs'];
    const plain = ['c1', 'Acme', '', 'é', '日本', '2025-01-05T00:00:00.000Z', 'Beta testers', "O'Neil"];
    const special = ['a,b', 'say "hi"', 'x\ny', 'x\ry', '#1', 'a,"b"'];
    for (let seed = 1; seed <= 40; seed += 1) {
      const next = random(seed);
      const pick = (values: readonly string[]) => values[Math.floor(next() * values.length)] as string;
      const records = [
        header,
        ...Array.from({ length: 1 + Math.floor(next() * 200) }, () =>
          header.map(() => (next() < 0.05 ? pick(special) : pick(plain))),
        ),
      ];
      const source = stringify(records, { quoted_match: /[\r\n#]/ });
      for (const chunkSizes of [[1 << 16], [1 + Math.floor(next() * 500), 1 + Math.floor(next() * 50)]]) {
        const { text, rows } = await reencode(source, header, chunkSizes);
        expect(text, `seed ${seed}, chunks ${chunkSizes.join('/')}`).toBe(await referenceExportCsv(source));
        expect(rows).toBe(records.length - 1);
      }
    }
  });

  it('splits no multi-byte character, whatever the chunk bounds', async () => {
    const source = 'Company ID,Company Name\n"日本","🚀, ""ok"""\nc2,é\n';
    for (const size of [1, 2, 3, 5]) {
      const { text } = await reencode(source, ['Company ID', 'Company Name'], [size]);
      expect(text).toBe('Company ID,Company Name\r\n日本,"🚀, ""ok"""\r\nc2,é\r\n');
    }
  });

  it('ends a last line without a line break, and keeps a trailing empty field', async () => {
    const { text, rows } = await reencode('"Company ID","Company Name"\n"c1",', ['Company ID', 'Company Name']);
    expect(text).toBe('Company ID,Company Name\r\nc1,\r\n');
    expect(rows).toBe(1);
  });

  it('refuses what is not the export’s result: another header, a short row, broken quoting, nothing at all', async () => {
    const header = ['Company ID', 'Company Name'];
    await expect(reencode('A,B\n1,2\n', header)).rejects.toThrow(/header \[A, B\]/);
    await expect(reencode('Company ID,Company Name\nc1\n', header)).rejects.toThrow(/1 fields, not 2/);
    await expect(reencode('Company ID,Company Name\nc1,a\nc2,a,b\n', header)).rejects.toThrow(/3 fields, not 2/);
    await expect(reencode('Company ID,Company Name\nc1,a\n\nc2,b\n', header)).rejects.toThrow(/empty line/);
    await expect(reencode('Company ID,Company Name\nc1,a\rb\n', header)).rejects.toThrow(/CR that ends no line/);
    await expect(reencode('Company ID,Company Name\nc1,"open\n', header)).rejects.toThrow(/inside a quoted field/);
    await expect(reencode('Company ID,Company Name\nc1,"a"b\n', header)).rejects.toThrow(/after a closing quote/);
    await expect(reencode('Company ID,Company Name\nc1,a"b\n', header)).rejects.toThrow(/quote inside an unquoted/);
    await expect(reencode('', header)).rejects.toThrow(/no header/);
  });
});
