import { Transform } from 'node:stream';
import { parse } from 'csv-parse';
import { stringify } from 'csv-stringify';

/**
 * Re-encodes a query result CSV (Athena quotes every field; DuckDB only where
 * needed) as the export CSV: RFC 4180, CRLF line ends, fields quoted only when they
 * must be, so the file is byte-for-byte the same on AWS and locally. Streams: rows
 * are never gathered in memory.
 */
export function exportCsvTransform(expectedHeader: readonly string[]): {
  /** Pipe the source CSV in. */
  readonly parser: Transform;
  /** The stages after the parser, ending in the re-encoded bytes. */
  readonly stages: readonly Transform[];
  /** Data rows seen (the header not counted); final once the stream has ended. */
  rows(): number;
} {
  let rows = 0;
  let headerSeen = false;
  const check = new Transform({
    objectMode: true,
    transform(record: string[], _encoding, callback) {
      if (!headerSeen) {
        headerSeen = true;
        if (record.join('\u0000') !== expectedHeader.join('\u0000')) {
          callback(new Error(`the query result has the header [${record.join(', ')}], not the export's`));
          return;
        }
      } else {
        rows += 1;
      }
      callback(null, record);
    },
  });
  return {
    parser: parse({ bom: true, relax_quotes: false }),
    // With CRLF records csv-stringify leaves a bare LF or CR unquoted; most readers
    // would split the row there, so any line break forces quotes.
    stages: [check, stringify({ record_delimiter: 'windows', quoted_match: /[\r\n]/ })],
    rows: () => rows,
  };
}
