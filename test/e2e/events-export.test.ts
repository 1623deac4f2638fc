import { execFile } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LakeEvent } from '../../lambdas/contract/lake.ts';
import { EXPORTED_EVENT_FIELDS } from '../../lambdas/core/events-export/sql.ts';
import type { Filter } from '../../lambdas/core/shared/filters.ts';
import { asCsvCells, type ExportedEvent, expectedExport, inFileOrder } from '../support/events-export-oracle.ts';
import { admin, http, startTestStack } from '../support/local-stack.ts';

/**
 * Seed 002 end to end: the local stack as `npm start` runs it, driven over HTTP
 * (and with curl, gunzip and the CLI, as a user would), events sent through the
 * tracking API, files compared with the oracle.
 */

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..', '..');
const DAY = 86_400_000;
const METACHARACTERS = "' OR 1=1 --";

type Stack = Awaited<ReturnType<typeof startTestStack>>;
let stack: Stack;
/** The stack's clock: real time until a test moves it forward. */
let clockOffsetMs = 0;

interface Env {
  environment_id: string;
  name: string;
  app_token: string;
  tracking_key: string;
  api_key: string;
}
let a: Env;
let b: Env;
let free: Env;

const token = (env: Env) => ({ authorization: `Token ${env.api_key}` });
const SEGMENT_9: Filter[] = [{ attribute: 'tier', operator: 'in', value: ['gold', 'platinum'] }];

/** A tenant's calls: company histories, users, tracks and feedback across the seed's ranges. */
function calls(marker: string): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  const companies = ['comp_1', 'comp_2', 'comp_3', METACHARACTERS];
  const users = ['user_1', 'user_2', 'user_3', METACHARACTERS];
  const tiers = ['gold', 'platinum', 'gold', 'silver'];
  companies.forEach((companyId, i) => {
    out.push({
      type: 'company',
      companyId,
      userId: users[i],
      attributes: { name: `${marker} ${companyId}`, tier: tiers[i] },
      timestamp: '2024-05-01T08:00:00Z',
    });
  });
  // comp_3 leaves gold before the seed range ends: as of its last day it is silver.
  out.push({ type: 'company', companyId: 'comp_3', attributes: { tier: 'silver' }, timestamp: '2024-08-01T00:00:00Z' });
  const days = [
    '2024-05-02T00:00:00Z',
    '2024-06-15T12:30:00Z',
    '2024-09-30T23:59:59.999Z',
    '2024-10-01T00:00:00Z',
    '2025-11-29T23:59:59.999Z',
    '2025-11-30T00:00:00Z',
    '2025-11-30T18:00:00Z',
    '2025-12-01T09:15:00.123Z',
    '2025-12-02T23:59:59.999Z',
    '2025-12-03T00:00:00Z',
  ];
  days.forEach((timestamp, d) => {
    users.forEach((userId, u) => {
      const companyId = u === 2 && d % 2 === 0 ? undefined : companies[(u + d) % companies.length];
      out.push({
        type: 'event',
        event: d % 3 === 0 ? 'Sent message' : `Clicked, "${marker}"`,
        userId,
        ...(companyId ? { companyId } : {}),
        attributes: { position: 'popover', n: d * 10 + u, note: u === 3 ? 'multi\nline, "quoted"' : marker },
        timestamp,
      });
    });
    out.push({
      type: 'feedback',
      userId: users[d % users.length],
      companyId: companies[d % companies.length],
      featureId: 'feature-1',
      score: 1 + (d % 5),
      comment: d % 2 ? `Great, "${marker}"` : undefined,
      timestamp,
    });
    out.push({ type: 'user', userId: users[d % users.length], attributes: { plan: marker }, timestamp });
  });
  // A retried call: the same messageId twice.
  out.push({
    type: 'event',
    event: 'Retried',
    userId: 'user_1',
    companyId: 'comp_1',
    messageId: `retry-${marker}`,
    timestamp: '2025-12-01T10:00:00Z',
  });
  out.push({
    type: 'event',
    event: 'Retried',
    userId: 'user_1',
    companyId: 'comp_1',
    messageId: `retry-${marker}`,
    timestamp: '2025-12-01T10:00:00Z',
  });
  return out;
}

async function lakeEvents(env: Env): Promise<LakeEvent[]> {
  return admin(stack).sql<LakeEvent>('SELECT * FROM events WHERE app_id = ?', [env.environment_id]);
}

async function waitForJob(env: Env, jobId: string): Promise<any> {
  await stack.workflowsIdle();
  const job = await http(`${stack.url}/api/v1/analytics/exports/jobs/${jobId}`, { headers: token(env) });
  expect(job.status, job.text).toBe(200);
  return job.body;
}

async function startExport(env: Env, body: Record<string, unknown>): Promise<any> {
  const started = await http(`${stack.url}/api/v1/analytics/exports`, { headers: token(env), body });
  expect(started.status, started.text).toBe(201);
  const job = await waitForJob(env, started.body.job_id);
  expect(job.status, JSON.stringify(job)).toBe('completed');
  return job;
}

/**
 * Follows a download link as a browser does, with no API key: our file route, then
 * its 302 to a presigned URL of the stack's S3 living five minutes.
 */
async function followLink(url: string): Promise<Buffer> {
  expect(url.startsWith(`${stack.url}/api/v1/analytics/exports/jobs/`), url).toBe(true);
  const redirect = await fetch(url, { redirect: 'manual' });
  expect(redirect.status, await redirect.clone().text()).toBe(302);
  expect(redirect.headers.get('cache-control')).toBe('no-store');
  const location = new URL(redirect.headers.get('location') as string);
  expect(location.origin).toBe(stack.s3Endpoint);
  expect(location.searchParams.get('X-Amz-Expires')).toMatch(/^([1-9]|[1-9]\d|[12]\d\d|300)$/);
  const response = await fetch(location);
  expect(response.status).toBe(200);
  return Buffer.from(await response.arrayBuffer());
}

/** Downloads each file through its link and decompresses it with the system's gunzip. */
async function downloadAll(job: { job_id: string; presigned_urls: Array<{ filename: string; url: string }> }) {
  const dir = join(stack.home, 'downloads', job.job_id);
  await mkdir(dir, { recursive: true });
  const files: Record<string, string> = {};
  for (const { filename, url } of job.presigned_urls) {
    const path = join(dir, filename);
    await writeFile(path, await followLink(url));
    files[filename] = (await run('gunzip', ['-c', path], { maxBuffer: 64 * 1024 * 1024 })).stdout;
  }
  return files;
}

const jsonLines = (text: string): ExportedEvent[] =>
  text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line));

beforeAll(async () => {
  stack = await startTestStack({ clock: { now: () => new Date(Date.now() + clockOffsetMs) } });
  const create = async (name: string, plan: 'free' | 'pro' | 'enterprise') =>
    (await admin(stack).createEnvironment(name, plan)).body as Env;
  a = await create('production', 'pro');
  b = await create('staging', 'enterprise');
  free = await create('hobby', 'free');
  for (const [env, marker] of [
    [a, 'TENANT-A'],
    [b, 'TENANT-B'],
  ] as const) {
    const all = calls(marker);
    for (let i = 0; i < all.length; i += 100) {
      const sent = await http(`${stack.url}/${env.tracking_key}/bulk`, { body: all.slice(i, i + 100) });
      expect(sent.status, sent.text).toBe(200);
    }
  }
  const segment = await http(`${stack.url}/api/v1/segments/9`, {
    method: 'PUT',
    headers: token(a),
    body: { name: 'Gold and platinum', filters: SEGMENT_9 },
  });
  expect(segment.status, segment.text).toBe(201);
  const exclusions = await http(`${stack.url}/api/v1/exclusions`, {
    method: 'PUT',
    headers: token(a),
    body: { user_ids: ['user_2'], company_ids: [METACHARACTERS] },
  });
  expect(exclusions.status, exclusions.text).toBe(200);
});
afterAll(async () => {
  await stack?.cleanup();
});

describe('bulk raw-event export over the local stack (seed 002)', () => {
  it("the seed's curl example answers the seed's success shape; a second one while it runs gets the seed's 409", async () => {
    const curl = () =>
      run('curl', [
        '--silent',
        '--location',
        `${stack.url}/api/v1/analytics/exports`,
        '--header',
        `Authorization: Token ${a.api_key}`,
        '--header',
        'Content-Type: application/json',
        '--data-raw',
        `{
    "from": "2024-05-02",
    "to": "2024-09-30",
    "emails": ["example@work.com"],
    "event_type": ["identify_user", "identify_company", "page_view", "track"],
    "user_id": ["user_1"],
    "company_id": ["comp_2"],
    "segment_id": "9",
    "format": "csv",
    "exclusions": true
}`,
      ]);
    const first = JSON.parse((await curl()).stdout);
    const second = JSON.parse((await curl()).stdout);
    expect(Object.keys(first).sort()).toEqual([
      'environment_app_token',
      'environment_name',
      'job_id',
      'links',
      'start_time',
    ]);
    expect(first).toMatchObject({
      environment_app_token: a.app_token,
      environment_name: 'production',
      links: `/api/v1/analytics/exports/jobs/${first.job_id}`,
    });
    expect(first.job_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(first.start_time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}$/);
    expect(second).toEqual({
      errors: [
        {
          details:
            'There is already an export job in progress, you can only have one export job in progress at a time.',
          error: 'Conflict',
          error_code: '409',
          message:
            'The request could not be completed due to a conflict with the current state of the target resource.',
        },
      ],
    });

    const job = await waitForJob(a, first.job_id);
    expect(job).toMatchObject({
      app_token: a.app_token,
      job_id: first.job_id,
      status: 'completed',
      type: 'export',
      progress: '23 out of 23 partitions',
      current_chunk: '2024-09-30',
      error: null,
    });
    expect(job.all_chunks[0]).toBe('2024-04-29');
    expect(job.all_chunks).toHaveLength(23);
    expect(job.completed_chunks).toEqual(job.all_chunks);
    expect(job.start_time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/);
    expect(job.end_time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/);
    expect(job.presigned_urls.map((f: { filename: string }) => f.filename)).toEqual(
      job.all_chunks.map((week: string) => `${week}.csv.gz`),
    );

    const list = await http(`${stack.url}/api/v1/analytics/exports/jobs`, { headers: token(a) });
    expect(list.status).toBe(200);
    const listed = list.body.find((j: { job_id: string }) => j.job_id === first.job_id);
    expect(Object.keys(listed).sort()).toEqual([
      'elapsed_time',
      'elapsed_time_seconds',
      'end_time',
      'job_id',
      'progress',
      'start_time',
      'status',
    ]);
    expect(listed).toMatchObject({ status: 'completed', progress: '23 out of 23 partitions', end_time: job.end_time });
    expect(listed.elapsed_time).toBe(
      `${listed.elapsed_time_seconds} ${listed.elapsed_time_seconds === 1 ? 'second' : 'seconds'}`,
    );
    expect(listed.start_time).toBe(first.start_time);

    // The files hold exactly what the request asks for: user_1, comp_2, segment 9 as of Sep 30, no exclusions.
    const files = await downloadAll(job);
    const events = await lakeEvents(a);
    const request = {
      event_type: ['identify_user', 'identify_company', 'page_view', 'track'] as const,
      user_id: ['user_1'],
      company_id: ['comp_2'],
      to: '2024-09-30',
    };
    let rows = 0;
    for (const [index, week] of job.all_chunks.entries()) {
      const from = index === 0 ? '2024-05-02' : week;
      const to = new Date(Math.min(Date.parse(week) + 6 * DAY, Date.parse('2024-09-30'))).toISOString().slice(0, 10);
      const want = expectedExport({
        events,
        appId: a.environment_id,
        appToken: a.app_token,
        request: { ...request, event_type: [...request.event_type] },
        from,
        to,
        segment: { filters: SEGMENT_9 },
        exclusions: { user_ids: ['user_2'], company_ids: [METACHARACTERS] },
      });
      rows += want.length;
      const got: string[][] = parse(files[`${week}.csv.gz`] as string);
      expect(got, week).toEqual(
        asCsvCells(
          inFileOrder(
            want,
            got.map((row) => row[1]),
          ),
        ),
      );
    }
    expect(rows).toBeGreaterThan(0);

    // The email of the request's `emails`, in the outbox with the links.
    const outbox = await readdir(join(stack.home, 'outbox'));
    const emails = await Promise.all(outbox.map((f) => readFile(join(stack.home, 'outbox', f), 'utf8')));
    const email = emails.find((text) => text.includes(first.job_id)) ?? '';
    expect(email).toContain('To: example@work.com');
    // The email's links are the job's: they work for the files' 2 days, with no key, and say so.
    expect(email).not.toMatch(/valid for|curl|Authorization/);
    for (const { filename, url } of job.presigned_urls as Array<{ filename: string; url: string }>) {
      const inEmail = email
        .split('\n')
        .find((line) => line.startsWith(`    ${stack.url}`) && line.includes(`/files/${filename}?`));
      expect(inEmail?.trim(), filename).toBe(url);
      expect(gunzipSync(await followLink(url)).toString()).toBe(files[filename]);
    }
  });

  it("the seed's scenario: Nov 30 → Dec 2, 2025 gives 2025-11-24.json.gz with only Nov 30 and 2025-12-01.json.gz with Dec 1–2", async () => {
    const job = await startExport(a, { from: '2025-11-30', to: '2025-12-02' });
    expect(job.all_chunks).toEqual(['2025-11-24', '2025-12-01']);
    const files = await downloadAll(job);
    expect(Object.keys(files)).toEqual(['2025-11-24.json.gz', '2025-12-01.json.gz']);
    const first = jsonLines(files['2025-11-24.json.gz'] as string);
    const second = jsonLines(files['2025-12-01.json.gz'] as string);
    expect(new Set(first.map((e) => String(e.timestamp).slice(0, 10)))).toEqual(new Set(['2025-11-30']));
    expect(new Set(second.map((e) => String(e.timestamp).slice(0, 10)))).toEqual(new Set(['2025-12-01', '2025-12-02']));
    const events = await lakeEvents(a);
    const request = {
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
      to: '2025-12-02',
    };
    const oracle = (from: string, to: string) =>
      expectedExport({ events, appId: a.environment_id, appToken: a.app_token, request, from, to });
    const ids = (lines: Array<{ event_id: unknown }>) => lines.map((e) => e.event_id);
    expect(first).toEqual(inFileOrder(oracle('2025-11-30', '2025-11-30'), ids(first)));
    expect(second).toEqual(inFileOrder(oracle('2025-12-01', '2025-12-02'), ids(second)));
    // Every field of the seed's event schema, in that order; metadata an object; one copy of a retried call.
    expect(Object.keys(second[0] as object)).toEqual([...EXPORTED_EVENT_FIELDS]);
    expect(second.filter((e) => e.event_name === 'Retried')).toHaveLength(1);
    expect(second.find((e) => e.event_type === 'feedback')).toMatchObject({ feature_id: 'feature-1' });
    expect(JSON.stringify(second)).not.toContain('TENANT-B');
  });

  describe('every filter, in both formats, file by file against the oracle', () => {
    const cases: Array<{ name: string; body: Record<string, unknown>; segment?: Filter[]; exclusions?: boolean }> = [
      { name: 'event_type', body: { event_type: ['feedback', 'identify_user'] } },
      { name: 'user_id (with SQL metacharacters)', body: { user_id: [METACHARACTERS, 'user_3'] } },
      { name: 'company_id (with SQL metacharacters)', body: { company_id: [METACHARACTERS] } },
      { name: 'segment_id', body: { segment_id: '9' }, segment: SEGMENT_9 },
      { name: 'exclusions', body: { exclusions: true }, exclusions: true },
    ];
    for (const format of ['json', 'csv'] as const) {
      for (const c of cases) {
        it(`${format}: ${c.name}`, async () => {
          const body = { from: '2025-11-29', to: '2025-12-03', format, ...c.body };
          const job = await startExport(a, body);
          const files = await downloadAll(job);
          const events = await lakeEvents(a);
          const request = {
            event_type: (c.body.event_type as string[] | undefined) ?? [
              'identify_user',
              'identify_company',
              'track',
              'feedback',
            ],
            user_id: (c.body.user_id as string[] | undefined) ?? [],
            company_id: (c.body.company_id as string[] | undefined) ?? [],
            to: body.to,
          };
          const weeks: Array<[string, string, string]> = [
            ['2025-11-24', '2025-11-29', '2025-11-30'],
            ['2025-12-01', '2025-12-01', '2025-12-03'],
          ];
          expect(job.all_chunks).toEqual(weeks.map(([week]) => week));
          let rows = 0;
          for (const [week, from, to] of weeks) {
            const want = expectedExport({
              events,
              appId: a.environment_id,
              appToken: a.app_token,
              request,
              from,
              to,
              segment: c.segment ? { filters: c.segment } : undefined,
              exclusions: c.exclusions ? { user_ids: ['user_2'], company_ids: [METACHARACTERS] } : undefined,
            });
            rows += want.length;
            const text = files[`${week}.${format}.gz`] as string;
            if (format === 'json') {
              const got = jsonLines(text);
              expect(got, week).toEqual(
                inFileOrder(
                  want,
                  got.map((e) => e.event_id),
                ),
              );
            } else {
              const got: string[][] = parse(text);
              expect(got, week).toEqual(
                asCsvCells(
                  inFileOrder(
                    want,
                    got.map((row) => row[1]),
                  ),
                ),
              );
            }
          }
          expect(rows).toBeGreaterThan(1);
        });
      }
    }
  });

  it('the file route redirects to a fresh presigned URL of that file', async () => {
    const job = await startExport(a, { from: '2025-12-01', to: '2025-12-01', format: 'csv' });
    const response = await fetch(
      `${stack.url}${`/api/v1/analytics/exports/jobs/${job.job_id}`}/files/2025-12-01.csv.gz`,
      {
        headers: token(a),
        redirect: 'manual',
      },
    );
    expect(response.status).toBe(302);
    const file = await fetch(response.headers.get('location') as string);
    expect(file.status).toBe(200);
    const missing = await http(`${stack.url}/api/v1/analytics/exports/jobs/${job.job_id}/files/2025-11-24.csv.gz`, {
      headers: token(a),
    });
    expect(missing.status).toBe(404);
  });

  it('a link changed in any part is a 4xx naming what is wrong, and never reaches another file', async () => {
    const ofA = await startExport(a, { from: '2025-12-01', to: '2025-12-01', format: 'csv' });
    const ofB = await startExport(b, { from: '2025-12-01', to: '2025-12-01', format: 'csv' });
    const link = new URL(ofA.presigned_urls[0].url);
    const changed = (edit: (url: URL) => void) => {
      const url = new URL(link);
      edit(url);
      return http(url.toString());
    };
    const refusals = [
      // Another environment's id, or its job's id, in A's link.
      await changed((url) => url.searchParams.set('environment_id', b.environment_id)),
      await changed((url) => {
        url.searchParams.set('environment_id', b.environment_id);
        url.pathname = url.pathname.replace(ofA.job_id, ofB.job_id);
      }),
      await changed((url) => {
        url.pathname = url.pathname.replace('2025-12-01.csv.gz', '2025-11-24.csv.gz');
      }),
      await changed((url) => url.searchParams.set('expires', String(Number(url.searchParams.get('expires')) + 86_400))),
    ];
    for (const refused of refusals) {
      expect(refused.status, refused.text).toBe(403);
      expect(refused.body.errors[0]).toMatchObject({ error_code: '403', field: 'signature' });
    }
    const malformed = await changed((url) => url.searchParams.set('signature', 'short'));
    expect(malformed.status).toBe(400);
    expect(malformed.body.errors[0]).toMatchObject({ field: 'signature' });
    // A's own link still works, with no API key at all.
    expect((await followLink(link.toString())).length).toBeGreaterThan(0);
  });

  it("keeps each environment's jobs and events to itself", async () => {
    const ofA = await startExport(a, { from: '2025-11-30', to: '2025-12-02' });
    const ofB = await startExport(b, { from: '2025-11-30', to: '2025-12-02' });
    for (const [reader, job] of [
      [b, ofA],
      [a, ofB],
    ] as const) {
      const stolen = await http(`${stack.url}/api/v1/analytics/exports/jobs/${job.job_id}`, { headers: token(reader) });
      expect(stolen.status).toBe(404);
      expect(stolen.body).toEqual({
        errors: [
          {
            details: null,
            error: 'Resource not found',
            error_code: '404',
            message: `Failed to retrieve job with id ${job.job_id}: job not found`,
          },
        ],
      });
      const file = await http(`${stack.url}/api/v1/analytics/exports/jobs/${job.job_id}/files/2025-12-01.json.gz`, {
        headers: token(reader),
      });
      expect(file.status).toBe(404);
      const list = await http(`${stack.url}/api/v1/analytics/exports/jobs`, { headers: token(reader) });
      expect(list.body.map((j: { job_id: string }) => j.job_id)).not.toContain(job.job_id);
    }
    const files = await downloadAll(ofB);
    const text = Object.values(files).join('');
    expect(text).toContain('TENANT-B');
    expect(text).not.toContain('TENANT-A');
    expect(text).not.toContain(a.app_token);
  });

  it("answers bad requests with the seed's errors shape naming each field, and 401s and 404s as the seed", async () => {
    const bad = await http(`${stack.url}/api/v1/analytics/exports`, {
      headers: token(a),
      body: { from: '2025-02-30', to: '2025-01-01', format: 'xml', event_type: ['clicks'], emails: ['nope'] },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: { field: string }) => e.field)).toEqual([
      'from',
      'emails[0]',
      'event_type[0]',
      'format',
    ]);
    for (const entry of bad.body.errors) {
      expect(entry).toMatchObject({ error: 'Bad Request', error_code: '400', message: 'The request is invalid.' });
    }
    const unknownSegment = await http(`${stack.url}/api/v1/analytics/exports`, {
      headers: token(a),
      body: { from: '2025-11-30', to: '2025-12-02', segment_id: METACHARACTERS },
    });
    expect(unknownSegment.status).toBe(400);
    expect(unknownSegment.body.errors).toMatchObject([{ field: 'segment_id' }]);

    const noToken = await http(`${stack.url}/api/v1/analytics/exports/jobs`);
    expect(noToken.status).toBe(401);
    expect(noToken.body.errors[0]).toMatchObject({ error: 'Unauthorized', error_code: '401' });
    const wrongToken = await http(`${stack.url}/api/v1/analytics/exports/jobs`, {
      headers: { authorization: 'Token nope' },
    });
    expect(wrongToken.status).toBe(401);
    const freePlan = await http(`${stack.url}/api/v1/analytics/exports`, {
      headers: token(free),
      body: { from: '2025-11-30', to: '2025-12-02' },
    });
    expect(freePlan.status).toBe(401);
    expect(freePlan.body).toEqual({
      errors: [
        {
          details: `Your current plan for application ${free.app_token} does not support the feature you are trying to access.`,
          error: 'Unauthorized',
          error_code: '401',
          message: 'You are not authorized to perform the requested action.',
        },
      ],
    });
    const unknown = await http(`${stack.url}/api/v1/analytics/exports/jobs/${encodeURIComponent(METACHARACTERS)}`, {
      headers: token(a),
    });
    expect(unknown.status).toBe(404);
    expect(unknown.body.errors[0].message).toBe(`Failed to retrieve job with id ${METACHARACTERS}: job not found`);
  });

  it('the CLI starts the job, shows its partitions and downloads every file', async () => {
    const out = join(stack.home, 'cli-export');
    const { stdout, stderr } = await run(
      process.execPath,
      [
        join(ROOT, 'bin', 'featurelake.mjs'),
        'export',
        'events',
        '--from',
        '2025-11-30',
        '--to',
        '2025-12-02',
        '--format',
        'csv',
        '--user-id',
        'user_1',
        METACHARACTERS,
        '--out',
        out,
        '--poll-ms',
        '100',
      ],
      { env: { ...process.env, FEATURELAKE_URL: stack.url, FEATURELAKE_API_KEY: a.api_key } },
    );
    const summary = JSON.parse(stdout);
    expect(summary).toMatchObject({
      status: 'completed',
      files: [{ filename: '2025-11-24.csv.gz' }, { filename: '2025-12-01.csv.gz' }],
    });
    expect(stderr).toMatch(/2\/2 partitions/);
    const viaApi = await downloadAll(await waitForJob(a, summary.job_id));
    for (const filename of Object.keys(viaApi)) {
      const { stdout: text } = await run('gunzip', ['-c', join(out, filename)]);
      expect(text).toBe(viaApi[filename]);
    }
    expect(viaApi['2025-12-01.csv.gz']).toContain(METACHARACTERS);
  });

  // Last: it moves the stack's clock days ahead.
  it('job info lives 3 days after creation, files 2 days after completion; expiry is checked on read', async () => {
    const job = await startExport(a, { from: '2025-12-01', to: '2025-12-01' });
    const read = () => http(`${stack.url}/api/v1/analytics/exports/jobs/${job.job_id}`, { headers: token(a) });
    const fileRoute = () =>
      fetch(`${stack.url}/api/v1/analytics/exports/jobs/${job.job_id}/files/2025-12-01.json.gz`, {
        headers: token(a),
        redirect: 'manual',
      });
    const listed = async () =>
      (await http(`${stack.url}/api/v1/analytics/exports/jobs`, { headers: token(a) })).body.map(
        (j: { job_id: string }) => j.job_id,
      );

    // Made at completion, a link ends exactly when the files do: 2 days after the job completed.
    const link: string = (await read()).body.presigned_urls[0].url;
    const completedAt = Date.parse((await read()).body.end_time);
    expect(Number(new URL(link).searchParams.get('expires'))).toBe(Math.floor((completedAt + 2 * DAY) / 1000));

    clockOffsetMs = 2 * DAY - 60_000;
    const late = await read();
    expect(late.body.presigned_urls).toEqual([{ filename: '2025-12-01.json.gz', url: link }]);
    expect((await fileRoute()).status).toBe(302);
    expect((await followLink(link)).length).toBeGreaterThan(0);

    clockOffsetMs = 2 * DAY + 1000;
    const expiredFiles = await read();
    expect(expiredFiles.status).toBe(200);
    expect(expiredFiles.body).toMatchObject({ status: 'completed', presigned_urls: [] });
    expect((await fileRoute()).status).toBe(404);
    const expiredLink = await http(link);
    expect(expiredLink.status).toBe(403);
    expect(expiredLink.body.errors[0]).toMatchObject({ error: 'Forbidden', error_code: '403', field: 'expires' });
    expect(expiredLink.body.errors[0].message).toMatch(/^This download link expired at \d{4}-/);
    expect(await listed()).toContain(job.job_id);

    clockOffsetMs = 3 * DAY + 1000;
    expect((await read()).status).toBe(404);
    expect(await listed()).not.toContain(job.job_id);
    expect((await fileRoute()).status).toBe(404);
  });
});
