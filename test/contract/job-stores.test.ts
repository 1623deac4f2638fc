import { afterAll, beforeAll } from 'vitest';
import { DynamoDbCompanyExportJobs } from '../../lambdas/adapters/aws/dynamodb-company-export-jobs.ts';
import { DynamoDbEventsExportJobs } from '../../lambdas/adapters/aws/dynamodb-events-export-jobs.ts';
import { type InMemoryStateTable, inMemoryStateTable } from '../support/local-stack.ts';
import { behavesAsAnExportLock } from './export-lock.contract.ts';

// Both job stores hold their environment's lock in the same state table, under
// different sort keys: one dynalite serves both runs.
const TABLE = 'state';
let state: InMemoryStateTable;

beforeAll(async () => {
  state = await inMemoryStateTable(TABLE);
});
afterAll(async () => {
  await state?.close();
});

behavesAsAnExportLock(
  'DynamoDbCompanyExportJobs (dynalite)',
  () => new DynamoDbCompanyExportJobs({ client: state.documents, tableName: TABLE }),
);
behavesAsAnExportLock(
  'DynamoDbEventsExportJobs (dynalite)',
  () => new DynamoDbEventsExportJobs({ client: state.documents, tableName: TABLE }),
);
