import type { Exclusions } from '../catalog/catalog.ts';
import { EMPTY_INPUT_ROW, type ExportInputRow, exportInputRows } from '../company-export/rollup/inputs.ts';
import type { RollupSegment } from '../company-export/rollup/types.ts';
import type { EventsExportRequest } from './request.ts';

/**
 * What an events export job writes to the lake's per-job `export_inputs` table
 * before its queries run (the rollup's mechanism: Athena takes `?` only in WHERE
 * clauses, and values never enter SQL text, so lists travel as rows). Besides the
 * rollup's `segment`/`filter`/`filter_value` rows for the chosen segment, one row
 * per value, its text in `value_text`:
 */
export const EVENTS_EXPORT_INPUT_KINDS = [
  /** The environment's app token, written into every exported event. */
  'app_token',
  /** `json` or `csv`: the one SQL text builds the line of either. */
  'format',
  'event_type',
  'user_id',
  'company_id',
  'excluded_user_id',
  'excluded_company_id',
] as const;
export type EventsExportInputKind = (typeof EVENTS_EXPORT_INPUT_KINDS)[number];

/**
 * A row of `export_inputs` as this export writes it: the rollup's columns, with
 * this export's kinds beside the rollup's. The table's `kind` column is plain text
 * (EXPORT_INPUT_COLUMNS), so both fit one file and one Glue table.
 */
export type EventsExportInputRow = Omit<ExportInputRow, 'kind'> & {
  kind: ExportInputRow['kind'] | EventsExportInputKind;
};

export interface EventsExportInputsSource {
  readonly jobId: string;
  readonly appToken: string;
  readonly request: Pick<EventsExportRequest, 'format' | 'event_type' | 'user_id' | 'company_id' | 'to'>;
  /** The segment to keep the companies of, as the catalog holds it now; undefined for none. */
  readonly segment?: RollupSegment;
  /** The environment's exclusions, when the request asked for them. */
  readonly exclusions?: Exclusions;
}

export function eventsExportInputRows(source: EventsExportInputsSource): EventsExportInputRow[] {
  const rows: EventsExportInputRow[] = [];
  const valueRow = (kind: EventsExportInputKind, seq: number, text: string): EventsExportInputRow => ({
    ...EMPTY_INPUT_ROW,
    kind,
    seq,
    value_type: 'string',
    value_text: text,
    value_json: JSON.stringify(text),
  });
  rows.push(valueRow('app_token', 0, source.appToken), valueRow('format', 0, source.request.format));
  const lists: Array<[EventsExportInputKind, readonly string[]]> = [
    ['event_type', source.request.event_type],
    ['user_id', source.request.user_id],
    ['company_id', source.request.company_id],
    ['excluded_user_id', source.exclusions?.user_ids ?? []],
    ['excluded_company_id', source.exclusions?.company_ids ?? []],
  ];
  for (const [kind, values] of lists) {
    [...new Set(values)].forEach((value, seq) => {
      rows.push(valueRow(kind, seq, value));
    });
  }
  if (source.segment) {
    // The rollup's own rows for one segment (its filters and `in` values); its
    // `date` row is the rollup's and is left out.
    const segmentRows = exportInputRows(source.jobId, { features: [], segments: [source.segment] }, [
      { date: source.request.to, d: new Date(`${source.request.to}T00:00:00Z`) },
    ]).filter((row) => row.kind !== 'date');
    rows.push(...segmentRows);
  }
  return rows;
}

/**
 * The rows as the LakeInputsWriter port types them. The port (the rollup's) names
 * only the rollup's kinds; the writers serialise every row column by column and
 * never read `kind`, so this export's kinds pass through unchanged.
 */
export function asLakeInputRows(rows: readonly EventsExportInputRow[]): readonly ExportInputRow[] {
  return rows as readonly ExportInputRow[];
}
