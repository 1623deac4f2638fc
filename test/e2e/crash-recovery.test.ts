import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { admin, http, spawnLocalStack, tempHome } from '../support/local-stack.ts';

const home = await tempHome('featurelake-crash-');
afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});

describe('a 200 means durable', () => {
  it('finds every acknowledged event after the server is killed with SIGKILL and started again', async () => {
    const first = await spawnLocalStack(home);
    const demo = JSON.parse(await readFile(join(home, 'demo-environment.json'), 'utf8'));
    const N = 800;
    const acknowledged: string[] = [];
    let next = 0;
    // 32 concurrent clients, mixing single calls and small bulk calls, as a burst.
    const client = async () => {
      while (next < N) {
        const i = next;
        next += i % 10 === 0 ? 5 : 1;
        const ids =
          i % 10 === 0 ? [0, 1, 2, 3, 4].map((k) => `crash-${i + k}`).filter((_, k) => i + k < N) : [`crash-${i}`];
        const response =
          ids.length > 1
            ? await http(`${first.url}/${demo.tracking_key}/bulk`, {
                body: ids.map((id) => ({ type: 'event', event: 'Burst', userId: 'crash-user', messageId: id })),
              })
            : await http(`${first.url}/${demo.tracking_key}/event`, {
                body: { event: 'Burst', userId: 'crash-user', messageId: ids[0] },
              });
        if (response.status === 200) acknowledged.push(...ids);
      }
    };
    await Promise.all(Array.from({ length: 32 }, client));
    first.child.kill('SIGKILL');
    await new Promise((resolve) => first.child.once('exit', resolve));
    expect(acknowledged).toHaveLength(N);

    const second = await spawnLocalStack(home);
    try {
      const adminToken = (await readFile(join(home, 'admin-token'), 'utf8')).trim();
      const rows = await admin({ url: second.url, adminToken }).sql<{ event_id: string }>(
        `SELECT event_id FROM events WHERE app_id = ? AND user_id = 'crash-user'`,
        [demo.environment_id],
      );
      expect(new Set(rows.map((r) => r.event_id))).toEqual(new Set(acknowledged));
      expect(rows).toHaveLength(N);
    } finally {
      second.child.kill('SIGTERM');
      await new Promise((resolve) => second.child.once('exit', resolve));
    }
    // Both stacks' exchanges (they log in the same home), against the OpenAPI document.
    expect(await second.exchangeViolations()).toEqual([]);
  });
});
