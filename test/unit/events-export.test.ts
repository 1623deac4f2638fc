import { describe, expect, it } from 'vitest';
import { lakeShard } from '../../lambdas/contract/lake.ts';
import { eventsExportInputRows } from '../../lambdas/core/events-export/inputs.ts';
import {
  currentChunk,
  detailView,
  downloadableFiles,
  type EventsExportJob,
  effectiveJob,
  elapsedSeconds,
  isJobVisible,
  listedView,
  newEventsExportJob,
  presignSeconds,
  startedView,
} from '../../lambdas/core/events-export/job.ts';
import { exportReadyEmail } from '../../lambdas/core/events-export/notification.ts';
import { planWeeklyPartitions } from '../../lambdas/core/events-export/partitions.ts';
import {
  DEFAULT_EXPORT_EVENT_TYPES,
  type EventsExportRequest,
  eventsExportRequest,
} from '../../lambdas/core/events-export/request.ts';
import { eventsExportParams } from '../../lambdas/core/events-export/sql.ts';
import { ValidationError } from '../../lambdas/core/shared/errors.ts';
import { parseRequestBody } from '../../lambdas/core/shared/request-body.ts';

const DAY = 86_400_000;

function parseRequest(body: unknown): EventsExportRequest {
  return parseRequestBody('eventsExport', eventsExportRequest, JSON.stringify(body));
}

function problems(body: unknown): Array<{ field: string; problem: string }> {
  try {
    parseRequest(body);
  } catch (error) {
    if (error instanceof ValidationError) return [...error.problems];
    throw error;
  }
  throw new Error('the request was accepted');
}

describe('events export request (seed 002 parameters)', () => {
  it('fills the defaults: the seed’s event types plus feedback, json, no filters, no exclusions', () => {
    expect(parseRequest({ from: '2024-05-02', to: '2024-09-30' })).toEqual({
      from: '2024-05-02',
      to: '2024-09-30',
      emails: [],
      event_type: [
        'identify_user',
        'identify_company',
        'page_view',
        'track',
        'track_feature',
        'interaction',
        'session_start',
        'feedback',
      ],
      user_id: [],
      company_id: [],
      format: 'json',
      exclusions: false,
    });
    expect(DEFAULT_EXPORT_EVENT_TYPES).toContain('feedback');
  });

  it('takes the SDK rows’ event types when named, and leaves them out of the default (issue 12)', () => {
    const request = parseRequest({
      from: '2024-05-02',
      to: '2024-09-30',
      event_type: ['feature_flag', 'prompt_event'],
    });
    expect(request.event_type).toEqual(['feature_flag', 'prompt_event']);
    expect(DEFAULT_EXPORT_EVENT_TYPES).not.toContain('feature_flag');
    expect(DEFAULT_EXPORT_EVENT_TYPES).not.toContain('prompt_event');
  });

  it('takes the seed’s example body as is, and ignores fields it does not know', () => {
    const request = parseRequest({
      from: '2024-05-02',
      to: '2024-09-30',
      emails: ['example@work.com'],
      event_type: ['identify_user', 'identify_company', 'page_view', 'track'],
      user_id: ['user_1'],
      company_id: ['comp_2'],
      segment_id: '9',
      format: 'csv',
      exclusions: true,
      something_new: 1,
    });
    expect(request).toMatchObject({ segment_id: '9', format: 'csv', exclusions: true, user_id: ['user_1'] });
    expect(request).not.toHaveProperty('something_new');
  });

  it('names each failing field', () => {
    expect(
      problems({
        from: '2024-13-01',
        to: 'tomorrow',
        emails: ['not-an-address'],
        event_type: ['track', 'clicks'],
        user_id: 'u1',
        company_id: [''],
        format: 'xml',
        exclusions: 'yes',
      }).map((p) => p.field),
    ).toEqual(['from', 'to', 'emails[0]', 'event_type[1]', 'user_id', 'company_id[0]', 'format', 'exclusions']);
    expect(problems({ to: '2024-01-01' })).toEqual([{ field: 'from', problem: 'is required' }]);
    expect(problems({ from: '2025-02-30', to: '2025-03-01' })[0]?.field).toBe('from');
    expect(problems({ from: '2024-05-02', to: '2024-05-01' })).toEqual([
      { field: 'to', problem: 'must not be before from (2024-05-02)' },
    ]);
    expect(problems({ from: '2000-01-01', to: '2024-05-01' })[0]?.field).toBe('to');
    expect(problems({ from: '2024-05-02', to: '2024-05-02', event_type: [] })[0]?.field).toBe('event_type');
    expect(problems([])[0]?.field).toBe('body');
  });

  it('stores numeric ids as the tracking API does, as their digits', () => {
    expect(
      parseRequest({ from: '2024-05-02', to: '2024-05-02', user_id: [1234567890, 'u2'], segment_id: 9 }),
    ).toMatchObject({
      user_id: ['1234567890', 'u2'],
      segment_id: '9',
    });
  });
});

describe('weekly partitions (seed 002 "Understanding File Names and Date Ranges")', () => {
  it('the seed’s scenario: Nov 30 → Dec 2, 2025 is the weeks of Nov 24 (only Nov 30) and Dec 1 (Dec 1–2)', () => {
    expect(planWeeklyPartitions('2025-11-30', '2025-12-02')).toEqual([
      { week: '2025-11-24', from: '2025-11-30', to: '2025-11-30' },
      { week: '2025-12-01', from: '2025-12-01', to: '2025-12-02' },
    ]);
  });

  it('names every week by its Monday, across a year end, and never leaves the range', () => {
    const weeks = planWeeklyPartitions('2024-12-25', '2025-01-13');
    expect(weeks.map((w) => w.week)).toEqual(['2024-12-23', '2024-12-30', '2025-01-06', '2025-01-13']);
    expect(weeks[0]).toMatchObject({ from: '2024-12-25', to: '2024-12-29' });
    expect(weeks[3]).toMatchObject({ from: '2025-01-13', to: '2025-01-13' });
    for (const week of weeks) expect(new Date(`${week.week}T00:00:00Z`).getUTCDay()).toBe(1);
    expect(planWeeklyPartitions('2025-12-01', '2025-12-01')).toEqual([
      { week: '2025-12-01', from: '2025-12-01', to: '2025-12-01' },
    ]);
  });
});

function job(overrides: Partial<EventsExportJob> = {}): EventsExportJob {
  const base = newEventsExportJob({
    jobId: '86f4dd75-00c8-40cd-ac6a-3dce8440be0c',
    environmentId: 'env-1',
    appToken: 'NX-51f4acf7',
    request: parseRequest({ from: '2025-11-30', to: '2025-12-14' }),
    now: new Date('2024-09-22T11:20:14.731Z'),
  });
  return { ...base, ...overrides };
}

describe('job views (seed 002 bodies)', () => {
  const created = new Date('2024-09-22T11:20:14.731Z');

  it('answers the POST with the seed’s five fields, start_time in the seed’s form', () => {
    expect(startedView(job(), 'production')).toEqual({
      environment_app_token: 'NX-51f4acf7',
      environment_name: 'production',
      job_id: '86f4dd75-00c8-40cd-ac6a-3dce8440be0c',
      links: '/api/v1/analytics/exports/jobs/86f4dd75-00c8-40cd-ac6a-3dce8440be0c',
      start_time: '2024-09-22T11:20:14.731000',
    });
  });

  it('lists a job as the seed does: "44 seconds" for 11:20:14.73 → 11:20:58.01, and N out of M partitions', () => {
    const done = job({
      status: 'completed',
      completed_at: '2024-09-22T11:20:58.006Z',
      completed_chunks: ['2025-11-24', '2025-12-01', '2025-12-08'],
    });
    expect(listedView(done, new Date(created.getTime() + 3600_000))).toEqual({
      elapsed_time: '44 seconds',
      elapsed_time_seconds: 44,
      end_time: '2024-09-22T11:20:58.006000Z',
      job_id: done.job_id,
      progress: '3 out of 3 partitions',
      start_time: '2024-09-22T11:20:14.731000',
      status: 'completed',
    });
    const running = job();
    expect(listedView(running, new Date(created.getTime() + 1000))).toMatchObject({
      elapsed_time: '1 second',
      end_time: null,
      progress: '0 out of 3 partitions',
      status: 'running',
    });
  });

  it('shows every detail field the seed shows, chunks as Mondays and type "export"', () => {
    const running = job({ completed_chunks: ['2025-11-24'] });
    const view = detailView(running, []);
    expect(Object.keys(view).sort()).toEqual(
      [
        'all_chunks',
        'app_token',
        'completed_chunks',
        'current_chunk',
        'end_time',
        'error',
        'job_id',
        'presigned_urls',
        'progress',
        'start_time',
        'status',
        'type',
      ].sort(),
    );
    expect(view).toMatchObject({
      app_token: 'NX-51f4acf7',
      all_chunks: ['2025-11-24', '2025-12-01', '2025-12-08'],
      completed_chunks: ['2025-11-24'],
      current_chunk: '2025-12-01',
      progress: '1 out of 3 partitions',
      start_time: '2024-09-22T11:20:14.731000Z',
      type: 'export',
      presigned_urls: [],
    });
    expect(currentChunk({ ...running, status: 'completed', completed_chunks: running.all_chunks })).toBe('2025-12-08');
  });

  it('shows a run that outlived its deadline as failed, whatever the item still says', () => {
    const stuck = job();
    const late = new Date(Date.parse(stuck.deadline) + 1);
    const seen = effectiveJob(stuck, late);
    expect(seen).toMatchObject({ status: 'failed', completed_at: stuck.deadline });
    expect(seen.error).toMatch(/time limit/);
    expect(elapsedSeconds(seen, new Date(late.getTime() + DAY))).toBe(
      Math.ceil((Date.parse(stuck.deadline) - created.getTime()) / 1000),
    );
    expect(effectiveJob(stuck, new Date(Date.parse(stuck.deadline) - 1)).status).toBe('running');
  });
});

describe('lifetimes (seed 002 "Data Restrictions")', () => {
  const created = Date.parse('2024-09-22T11:20:14.731Z');
  const completedAt = created + 60_000;
  const done = job({ status: 'completed', completed_at: new Date(completedAt).toISOString() });

  it('a job is visible for 3 days after it is created, then gone', () => {
    expect(isJobVisible(done, new Date(created + 3 * DAY - 1))).toBe(true);
    expect(isJobVisible(done, new Date(created + 3 * DAY))).toBe(false);
  });

  it('files and their URLs last 2 days after completion; a URL never outlives them', () => {
    expect(downloadableFiles(done, new Date(completedAt + 2 * DAY - 1000))).toEqual([
      '2025-11-24.json.gz',
      '2025-12-01.json.gz',
      '2025-12-08.json.gz',
    ]);
    expect(presignSeconds(done, new Date(completedAt))).toBe(2 * 86_400);
    expect(presignSeconds(done, new Date(completedAt + 2 * DAY - 90_000))).toBe(90);
    expect(downloadableFiles(done, new Date(completedAt + 2 * DAY))).toEqual([]);
    expect(downloadableFiles(job(), new Date(created + 1000))).toEqual([]);
    expect(downloadableFiles({ ...done, status: 'failed' }, new Date(completedAt))).toEqual([]);
  });
});

describe('partition query parameters', () => {
  it('binds the job, the app’s shard and id, the receive dates it can have and the week’s days; with no segment the history scan gets an empty range', () => {
    const shard = lakeShard('app');
    expect(
      eventsExportParams({ jobId: 'job-1', environmentId: 'app', partition: { from: '2025-11-30', to: '2025-11-30' } }),
    ).toEqual([
      'job-1',
      shard,
      'app',
      '9999-12-30',
      '9999-12-31',
      '0000-01-01',
      shard,
      'app',
      // An event dated 2025-11-30 may have been received from 2025-11-29 on (a day ahead at most).
      '2025-11-29',
      '2025-11-30',
      '2025-11-30',
    ]);
    expect(
      eventsExportParams({
        jobId: 'job-1',
        environmentId: 'app',
        partition: { from: '2025-12-01', to: '2025-12-02' },
        segmentAsOf: '2025-12-02',
      }).slice(3, 6),
    ).toEqual(['2019-12-31', '2020-01-01', '2025-12-02']);
    expect(() =>
      eventsExportParams({ jobId: "x' OR 1=1", environmentId: 'app', partition: { from: 'a', to: 'b' } }),
    ).toThrow();
  });

  it('carries every filter value as a row of the inputs table, the segment as the rollup writes it', () => {
    const rows = eventsExportInputRows({
      jobId: 'job-1',
      appToken: 'FL-1',
      request: parseRequest({
        from: '2025-01-01',
        to: '2025-01-31',
        format: 'csv',
        user_id: ["' OR 1=1 --"],
        company_id: ['c1', 'c2'],
        event_type: ['track'],
      }),
      segment: { id: 's1', name: 'Big', filters: [{ attribute: 'tier', operator: 'in', value: ['gold', 1] }] },
      exclusions: { user_ids: ['u9'], company_ids: [] },
    });
    const values = (kind: string) => rows.filter((r) => r.kind === kind).map((r) => r.value_text);
    expect(values('app_token')).toEqual(['FL-1']);
    expect(values('format')).toEqual(['csv']);
    expect(values('user_id')).toEqual(["' OR 1=1 --"]);
    expect(values('company_id')).toEqual(['c1', 'c2']);
    expect(values('event_type')).toEqual(['track']);
    expect(values('excluded_user_id')).toEqual(['u9']);
    expect(rows.filter((r) => r.kind === 'segment')).toHaveLength(1);
    expect(rows.filter((r) => r.kind === 'filter')).toMatchObject([
      { owner: 'segment', attribute: 'tier', operator: 'in' },
    ]);
    expect(values('filter_value')).toEqual(['gold', '1']);
    expect(rows.some((r) => r.kind === 'date')).toBe(false);
  });
});

describe('the ready email', () => {
  it('lists each file with its link, says until when the files and links work, and has no shorter caveat', () => {
    const done = job({
      status: 'completed',
      completed_at: '2024-09-22T11:21:00.000Z',
      request: { ...job().request, emails: ['a@example.com', 'b@example.com'] },
    });
    const link = `https://api.example.com/api/v1/analytics/exports/jobs/${done.job_id}/files/2025-11-24.json.gz?sig=1`;
    const email = exportReadyEmail({
      job: done,
      files: [{ filename: '2025-11-24.json.gz', url: link }],
      apiBaseUrl: 'https://api.example.com/',
    });
    expect(email.to).toEqual(['a@example.com', 'b@example.com']);
    expect(email.text).toContain(`  2025-11-24.json.gz\n    ${link}`);
    expect(email.text).toContain('work for 2 days, until 2024-09-24T11:21:00.000Z');
    expect(email.text).toContain(`https://api.example.com/api/v1/analytics/exports/jobs/${done.job_id}\n`.trim());
    expect(email.text).not.toMatch(/valid for|hour/);
  });
});
