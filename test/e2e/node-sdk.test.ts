import bucketModule from '@bucketco/tracking-sdk';
import { ReflagClient } from '@reflag/node-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, startTestStack } from '../support/local-stack.ts';

/**
 * The vendors' own Node SDKs, unmodified, against the local stack, configured only
 * through their documented options (docs/sdk.md): what they send lands in `events`,
 * and they log nothing above info.
 */

/** A CommonJS module whose `exports.default` is the SDK: Node's ESM import sees all of `exports`, vitest's interop may unwrap it. */
type BucketSdk = (typeof bucketModule)['default'];
const bucket: BucketSdk = (bucketModule as { default?: BucketSdk }).default ?? (bucketModule as unknown as BucketSdk);

type Stack = Awaited<ReturnType<typeof startTestStack>>;
let stack: Stack;
let lake: ReturnType<typeof admin>;
let env: { environment_id: string; tracking_key: string; api_key: string };

beforeAll(async () => {
  stack = await startTestStack();
  lake = admin(stack);
  env = (await lake.createEnvironment('node-sdk', 'pro')).body;
});
afterAll(async () => {
  await stack?.cleanup();
});

/** A logger that keeps every line, so a test can say none was a warning or an error. */
function recordingLogger() {
  const lines: Array<{ level: string; message: string }> = [];
  const at =
    (level: string) =>
    (message: string, ...rest: unknown[]) => {
      lines.push({
        level,
        message: [message, ...rest.map((r) => (r instanceof Error ? r.message : JSON.stringify(r)))].join(' '),
      });
    };
  return { lines, logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } };
}

describe('@reflag/node-sdk', () => {
  it('users, companies, tracks and flag checks land in events; remote flags answer empty; no warning or error', async () => {
    const { lines, logger } = recordingLogger();
    const client = new ReflagClient({
      secretKey: env.api_key,
      apiBaseUrl: stack.url,
      logger,
      // vitest sets NODE_ENV=test, where the SDK defaults to offline.
      offline: false,
      // Flag definitions are polled from GET /features (answered empty), never pushed
      // over the vendor's server-sent-events stream.
      flagsSyncMode: 'polling',
      // The flag the test checks, switched on locally: the SDK reports the check.
      flagOverrides: { huddles: true },
      batchOptions: { flushOnExit: false },
    });
    try {
      await client.initialize();
      await client.updateUser('sdk-user-1', { attributes: { name: 'Ada' } });
      await client.updateCompany('sdk-company-1', { userId: 'sdk-user-1', attributes: { name: 'Acme', seats: 12 } });
      await client.track('sdk-user-1', 'Huddle started', { companyId: 'sdk-company-1', attributes: { size: 3 } });
      const bound = client.bindClient({ user: { id: 'sdk-user-2' }, company: { id: 'sdk-company-1' } });
      expect(bound.getFlag('huddles').isEnabled).toBe(true);
      expect(bound.getFlag('not-a-flag').isEnabled).toBe(false);
      await bound.track('Huddle joined');
      expect(await bound.getFlagsRemote()).toEqual({});
      await client.flush();
    } finally {
      client.destroy();
    }

    expect(lines.filter((line) => line.level === 'warn' || line.level === 'error')).toEqual([]);
    const rows = await lake.sql(
      `SELECT event_type, event_name, user_id, company_id, feature_id, attributes, source FROM events
       WHERE app_id = ? ORDER BY event_type, user_id, event_name`,
      [env.environment_id],
    );
    const summary = rows.map((row) => [row.event_type, row.event_name, row.user_id, row.company_id, row.feature_id]);
    // The bound client identifies its user and company itself (syncContext).
    expect(summary).toEqual(
      expect.arrayContaining([
        ['identify_user', null, 'sdk-user-1', null, null],
        ['identify_company', null, 'sdk-user-1', 'sdk-company-1', null],
        ['track', 'Huddle started', 'sdk-user-1', 'sdk-company-1', null],
        ['track', 'Huddle joined', 'sdk-user-2', 'sdk-company-1', null],
        ['feature_flag', 'check', 'sdk-user-2', 'sdk-company-1', 'huddles'],
        ['feature_flag', 'check', 'sdk-user-2', 'sdk-company-1', 'not-a-flag'],
      ]),
    );
    expect(rows.every((row) => row.source === 'bulk')).toBe(true);
    const check = rows.find((row) => row.event_type === 'feature_flag' && row.feature_id === 'huddles');
    expect(JSON.parse(check?.attributes as string)).toMatchObject({
      evalResult: true,
      evalContext: { user: { id: 'sdk-user-2' }, company: { id: 'sdk-company-1' } },
    });
    const company = rows.find((row) => row.event_type === 'identify_company' && row.user_id === 'sdk-user-1');
    expect(JSON.parse(company?.attributes as string)).toEqual({ name: 'Acme', seats: 12 });
  });
});

describe('@bucketco/tracking-sdk (seed 001: the key in the path)', () => {
  it('user, company, track and feedback land in events under Node 20', async () => {
    bucket.init(env.tracking_key, { host: stack.url });
    try {
      const answers = await Promise.all([
        bucket.user('bucket-user', { name: 'Grace' }),
        bucket.company('bucket-company', { name: 'Initech' }, 'bucket-user'),
        bucket.track('Report sent', { pages: 2 }, 'bucket-user', 'bucket-company'),
        bucket.feedback({ featureId: 'reports', userId: 'bucket-user', companyId: 'bucket-company', score: 5 }),
      ]);
      expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200]);
      // Its getFeatureFlags caches in localStorage, a browser API: lane C's browser test covers it.
    } finally {
      bucket.reset();
    }
    const rows = await lake.sql(
      `SELECT event_type, user_id, company_id, feature_id, score, attributes FROM events
       WHERE app_id = ? AND user_id = 'bucket-user' ORDER BY event_type`,
      [env.environment_id],
    );
    expect(rows.map((row) => [row.event_type, row.company_id, row.feature_id, row.score])).toEqual([
      ['feedback', 'bucket-company', 'reports', 5],
      ['identify_company', 'bucket-company', null, null],
      ['identify_user', null, null, null],
      ['track', 'bucket-company', null, null],
    ]);
    // The SDK marks its feedback `source: "sdk"`: kept in attributes.
    expect(JSON.parse(rows[0]?.attributes as string)).toEqual({ source: 'sdk' });
  });
});
