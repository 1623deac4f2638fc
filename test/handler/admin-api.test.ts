import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_STATE_TABLE } from '../../bin/local.ts';
import { admin, http, startTestStack, tempHome } from '../support/local-stack.ts';

type Stack = Awaited<ReturnType<typeof startTestStack>>;
let stack: Stack;

beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.cleanup();
});

const environments = (token?: string, body: unknown = { name: 'acme', plan: 'pro' }) =>
  http(`${stack.url}/admin/v1/environments`, { headers: token ? { authorization: `Bearer ${token}` } : {}, body });

describe('POST /admin/v1/environments', () => {
  it('creates an environment and shows its keys once', async () => {
    const response = await environments(stack.adminToken);
    expect(response.status).toBe(201);
    expect(Object.keys(response.body).sort()).toEqual(
      ['api_key', 'app_token', 'environment_id', 'name', 'plan', 'tracking_key'].sort(),
    );
    expect(response.body).toMatchObject({ name: 'acme', plan: 'pro' });
    expect(response.body.app_token).toMatch(/^FL-[0-9a-f]{8}$/);
    expect(response.body.tracking_key).toMatch(/^[0-9A-Za-z]{24}$/);
  });

  it('stores the API key only as its hash', async () => {
    const { body } = await environments(stack.adminToken, { name: 'hashed', plan: 'enterprise' });
    const client = stack.dynamoClient();
    const { Items = [] } = await client.send(new ScanCommand({ TableName: LOCAL_STATE_TABLE }));
    client.destroy();
    const dump = JSON.stringify(Items);
    expect(dump).not.toContain(body.api_key);
    expect(dump).toContain(createHash('sha256').update(body.api_key).digest('hex'));
  });

  it('refuses a missing or wrong admin token with 401', async () => {
    expect((await environments()).status).toBe(401);
    const wrong = await environments('not-the-token');
    expect(wrong.status).toBe(401);
    expect(wrong.body.errors[0]).toMatchObject({ error: 'Unauthorized', error_code: '401' });
  });

  it('names the field of a bad request', async () => {
    const response = await environments(stack.adminToken, { name: '', plan: 'gold' });
    expect(response.status).toBe(400);
    expect(response.body.errors.map((e: { field: string }) => e.field)).toEqual(['name', 'plan']);
  });
});

describe('POST /admin/v1/sql', () => {
  const sql = (body: unknown) =>
    http(`${stack.url}/admin/v1/sql`, { headers: { authorization: `Bearer ${stack.adminToken}` }, body });

  it('refuses anything but one read-only query, naming sql', async () => {
    for (const text of ['DROP VIEW events', 'SELECT 1; SELECT 2', "COPY (SELECT 1) TO '/tmp/out.csv'", 'SELEC 1']) {
      const response = await sql({ sql: text });
      expect(response.status, text).toBe(400);
      expect(response.body.errors[0].field).toBe('sql');
    }
  });

  it('cannot read files outside the lake', async () => {
    const response = await sql({ sql: 'SELECT * FROM read_text(?)', params: ['/etc/hostname'] });
    expect(response.status).toBe(400);
    expect(response.body.errors[0].details).toMatch(/disabled by configuration|Permission/);
  });

  it('binds values as data, never as SQL', async () => {
    await http(`${stack.url}/${stack.demo.tracking_key}/user`, { body: { userId: 'victim' } });
    const rows = await admin(stack).sql('SELECT count(*) AS n FROM events WHERE user_id = ?', ["' OR 1=1 --"]);
    expect(rows).toEqual([{ n: 0 }]);
  });
});

describe('the CLI', () => {
  const run = promisify(execFile);
  const cli = (...args: string[]) =>
    run(process.execPath, [join(import.meta.dirname, '..', '..', 'bin', 'featurelake.mjs'), ...args], {
      env: { ...process.env, FEATURELAKE_URL: stack.url, FEATURELAKE_HOME: stack.home },
    });

  it('env create prints the same JSON as the API', async () => {
    const { stdout } = await cli('env', 'create', '--name', 'from-cli', '--plan', 'enterprise');
    const created = JSON.parse(stdout);
    expect(created).toMatchObject({ name: 'from-cli', plan: 'enterprise' });
    expect(created.api_key).toMatch(/^fl_/);
  });

  it("env shard prints the shard that holds the environment's rows", async () => {
    await http(`${stack.url}/${stack.demo.tracking_key}/user`, { body: { userId: 'sharded' } });
    const { stdout } = await cli('env', 'shard', stack.demo.environment_id);
    const shard = Number(stdout.trim());
    const count = (n: number) =>
      admin(stack).sql("SELECT count(*) AS n FROM events WHERE shard = ? AND app_id = ? AND user_id = 'sharded'", [
        n,
        stack.demo.environment_id,
      ]);
    expect(await count(shard)).toEqual([{ n: 1 }]);
    expect(await count((shard + 1) % 64)).toEqual([{ n: 0 }]);
  });

  it('sql prints rows, and a refused query exits non-zero with the reason', async () => {
    const { stdout } = await cli('sql', 'SELECT ? AS greeting', '--param', 'hello');
    expect(JSON.parse(stdout)).toEqual([{ greeting: 'hello' }]);
    await expect(cli('sql', 'DELETE FROM events')).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/400.*sql/s),
    });
  });
});

describe('state survives a restart', () => {
  it('keeps environments, events and the admin token; the demo API key is shown only on the first start', async () => {
    const home = await tempHome();
    const first = await startTestStack({ home });
    expect(first.demoApiKey).toMatch(/^fl_/);
    const accepted = await http(`${first.url}/${first.demo.tracking_key}/event`, {
      body: { event: 'Before restart', userId: 'r1' },
    });
    expect(accepted.status).toBe(200);
    await first.close();

    const second = await startTestStack({ home });
    try {
      expect(second.demo).toEqual(first.demo);
      expect(second.demoApiKey).toBeUndefined();
      expect(second.adminToken).toBe(first.adminToken);
      const rows = await admin(second).sql('SELECT event_name FROM events WHERE user_id = ?', ['r1']);
      expect(rows).toEqual([{ event_name: 'Before restart' }]);
      const again = await http(`${second.url}/${second.demo.tracking_key}/event`, {
        body: { event: 'After', userId: 'r1' },
      });
      expect(again.status).toBe(200);
    } finally {
      await second.cleanup();
    }
  });
});
