import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parse } from 'csv-parse';
import { stringify } from 'csv-stringify';

/**
 * The export CSV encoding by the libraries (csv-parse into csv-stringify, CRLF
 * records, any line break forcing quotes): what `ExportCsvEncoder` replaced for
 * speed, kept as the reference its tests compare it with.
 */
export async function referenceExportCsv(source: string): Promise<string> {
  const chunks: Buffer[] = [];
  const stringifier = stringify({ record_delimiter: 'windows', quoted_match: /[\r\n]/ });
  stringifier.on('data', (chunk: Buffer) => chunks.push(Buffer.from(chunk)));
  await pipeline(Readable.from([source]), parse({ relax_quotes: false }), stringifier);
  return Buffer.concat(chunks).toString('utf8');
}
