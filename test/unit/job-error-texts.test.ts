import { describe, expect, it } from 'vitest';
import { readableWorkflowFailure } from '../../lambdas/core/company-export/job.ts';

/** Issue 9, finding 10: job error texts showed the server's file paths. */
describe('job error texts', () => {
  const home = '/root/.featurelake';

  it('name no file of the server, and still say what happened', () => {
    const cause = JSON.stringify({
      QueryExecution: {
        Status: {
          State: 'FAILED',
          StateChangeReason: `Invalid Input Error: No magic bytes found at end of file "${home}/lake/export_inputs/job_id=1/inputs.json"`,
        },
      },
    });
    const text = readableWorkflowFailure({ Error: 'States.TaskFailed', Cause: cause });
    expect(text).not.toContain(home);
    expect(text).not.toMatch(/\/lake\//);
    expect(text).toMatch(
      /^The export failed: Invalid Input Error: No magic bytes found at end of file a file of the lake/,
    );
  });

  it('drop stack traces, local ports and s3 locations from a step error', () => {
    const cause = JSON.stringify({
      errorMessage: `ENOENT: no such file or directory, open '${home}/query-results/r/x.csv' after connect ECONNREFUSED 127.0.0.1:45123 reading s3://featurelake-query-results/x.csv\n    at open (node:fs:1:1)`,
    });
    const text = readableWorkflowFailure({ Error: 'Error', Cause: cause });
    expect(text).not.toContain(home);
    expect(text).not.toMatch(/127\.0\.0\.1|45123|s3:\/\/|node:fs/);
    expect(text).toMatch(/ENOENT: no such file or directory/);
  });
});
