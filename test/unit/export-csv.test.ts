import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { exportCsvTransform } from '../../lambdas/core/export-csv.ts';

async function reencode(source: string, header: string[]): Promise<{ text: string; rows: number }> {
  const csv = exportCsvTransform(header);
  const chunks: Buffer[] = [];
  const last = csv.stages[csv.stages.length - 1];
  last?.on('data', (chunk: Buffer) => chunks.push(Buffer.from(chunk)));
  await pipeline(Readable.from([source]), csv.parser, ...csv.stages);
  return { text: Buffer.concat(chunks).toString('utf8'), rows: csv.rows() };
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

  it('refuses a result whose header is not the export’s', async () => {
    await expect(reencode('A,B\n1,2\n', ['Company ID', 'Company Name'])).rejects.toThrow(/header/);
  });
});
