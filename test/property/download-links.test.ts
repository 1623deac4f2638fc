import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import {
  type DownloadGrant,
  type DownloadKind,
  downloadLink,
  presentsDownloadLink,
  verifyDownloadLink,
} from '../../lambdas/core/shared/download-links.ts';
import { DomainError, ForbiddenError, ValidationError } from '../../lambdas/core/shared/errors.ts';
import type { SecretSource } from '../../lambdas/ports/secret-source.ts';
import { TEST_LINK_KEY } from '../support/download-links.ts';
import { propertyRuns } from './arbitraries.ts';

/**
 * A download link (issue 11, finding 3) grants one file of one job of one
 * environment, of one kind, until its expiry: whatever is changed in it, or
 * whenever it is used after its expiry, it is refused with a 4xx naming why, and
 * it never names another environment.
 */

const RUNS = propertyRuns(200);
const BASE = 'https://api.example.com';
const deps = { linkKey: TEST_LINK_KEY, apiBaseUrl: () => `${BASE}/` };
const KINDS: readonly DownloadKind[] = ['events-export', 'company-export'];

const grant = fc.record({
  kind: fc.constantFrom(...KINDS),
  environmentId: fc.uuid(),
  jobId: fc.uuid(),
  filename: fc.oneof(
    fc.date({ noInvalidDate: true }).map((d) => `${d.toISOString().slice(0, 10)}.json.gz`),
    // Not "." or "..": a URL drops such a path segment (encoded too), and no export file is named so.
    fc.string({ minLength: 1, maxLength: 60 }).filter((name) => name !== '.' && name !== '..'),
  ),
  // 2001 to 2286: ten digits, as every real expiry.
  expires: fc.integer({ min: 1_000_000_000, max: 9_999_999_999 }),
});

/** The link as the route receives it: the path's job and file, and the query. */
async function linkOf(g: DownloadGrant) {
  const path = `/files/${g.jobId}/${encodeURIComponent(g.filename)}`;
  const url = new URL(await downloadLink(deps, g, path));
  return { url, query: Object.fromEntries(url.searchParams) };
}

const justBefore = (g: DownloadGrant) => new Date(g.expires * 1000 - 1);

async function refusal(promise: Promise<unknown>): Promise<DomainError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DomainError);
  const domain = error as DomainError;
  expect([400, 403]).toContain(domain.status);
  return domain;
}

describe('download links', () => {
  test.prop([grant], { numRuns: RUNS })('a link verifies, until its expiry, to its own environment', async (g) => {
    const { url, query } = await linkOf(g);
    expect(url.origin).toBe(BASE);
    expect(url.pathname).toBe(`/files/${g.jobId}/${encodeURIComponent(g.filename)}`);
    expect(presentsDownloadLink(query)).toBe(true);
    const request = { kind: g.kind, jobId: g.jobId, filename: g.filename, query };
    await expect(verifyDownloadLink(deps, request, justBefore(g))).resolves.toBe(g.environmentId);
  });

  test.prop([grant, grant, fc.constantFrom('kind', 'environmentId', 'jobId', 'filename', 'expires')], {
    numRuns: RUNS,
  })('a link whose kind, environment, job, file or expiry is changed is refused', async (g, other, field) => {
    fc.pre(g[field] !== other[field]);
    const { query } = await linkOf(g);
    const changed = { ...g, [field]: other[field] };
    const request = {
      kind: changed.kind,
      jobId: changed.jobId,
      filename: changed.filename,
      query: { ...query, environment_id: changed.environmentId, expires: String(changed.expires) },
    };
    const error = await refusal(verifyDownloadLink(deps, request, new Date(0)));
    expect(error).toBeInstanceOf(ForbiddenError);
    expect(error.toBody().errors[0]).toMatchObject({ error_code: '403', field: 'signature' });
  });

  test.prop([grant, fc.integer({ min: 0, max: 3 * 365 * 86_400_000 })], { numRuns: RUNS })(
    'a link used at or after its expiry is refused, saying when it expired',
    async (g, lateMs) => {
      const { query } = await linkOf(g);
      const request = { kind: g.kind, jobId: g.jobId, filename: g.filename, query };
      const error = await refusal(verifyDownloadLink(deps, request, new Date(g.expires * 1000 + lateMs)));
      expect(error.toBody().errors[0]).toMatchObject({ error_code: '403', field: 'expires' });
      expect(error.message).toContain(new Date(g.expires * 1000).toISOString());
    },
  );

  test.prop(
    [
      grant,
      fc.constantFrom('environment_id', 'expires', 'signature'),
      fc.nat(),
      fc.constantFrom(...'0123456789abcdefABCDEF-_=%+/. '),
    ],
    { numRuns: RUNS },
  )('a link with any one character of its query changed is refused', async (g, name, at, replacement) => {
    const { query } = await linkOf(g);
    const value = query[name] ?? '';
    const index = at % value.length;
    fc.pre(value[index] !== replacement);
    const tampered = { ...query, [name]: value.slice(0, index) + replacement + value.slice(index + 1) };
    const request = { kind: g.kind, jobId: g.jobId, filename: g.filename, query: tampered };
    await refusal(verifyDownloadLink(deps, request, justBefore(g)));
  });

  test.prop([grant, fc.constantFrom('environment_id', 'expires', 'signature')], { numRuns: 50 })(
    'a link missing a parameter is a 400 naming it',
    async (g, name) => {
      const { query } = await linkOf(g);
      const { [name]: _dropped, ...rest } = query;
      const request = { kind: g.kind, jobId: g.jobId, filename: g.filename, query: rest };
      const error = await refusal(verifyDownloadLink(deps, request, justBefore(g)));
      expect(error).toBeInstanceOf(ValidationError);
      expect(error.toBody().errors.map((e) => e.field)).toEqual([name]);
    },
  );

  test.prop([grant, fc.string({ minLength: 32, maxLength: 80 })], { numRuns: 50 })(
    'a link made with another key (the key was replaced) is refused',
    async (g, otherKey) => {
      const rotated: SecretSource = { value: async () => otherKey };
      fc.pre(otherKey !== (await TEST_LINK_KEY.value()));
      const { query } = await linkOf(g);
      const request = { kind: g.kind, jobId: g.jobId, filename: g.filename, query };
      const error = await refusal(verifyDownloadLink({ linkKey: rotated }, request, justBefore(g)));
      expect(error.toBody().errors[0]).toMatchObject({ field: 'signature' });
    },
  );
});
