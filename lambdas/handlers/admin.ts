import { AthenaClient } from '@aws-sdk/client-athena';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { AthenaQueryEngine } from '../adapters/aws/athena-query-engine.ts';
import { DynamoDbEnvironmentStore } from '../adapters/aws/dynamodb-environment-store.ts';
import { SecretsManagerAdminTokenSource } from '../adapters/aws/secrets-manager-admin-token.ts';
import { lazyHandler, loadConfig } from '../config.ts';
import { assertAdmin, MAX_SQL_ROWS, parseJsonBody, sqlRequest } from '../core/admin.ts';
import { createEnvironmentRequest, newEnvironment } from '../core/environments.ts';
import { NotFoundError } from '../core/errors.ts';
import type { AdminTokenSource } from '../ports/admin-token-source.ts';
import { type Clock, systemClock } from '../ports/clock.ts';
import type { EnvironmentStore } from '../ports/environment-store.ts';
import type { QueryEngine } from '../ports/query-engine.ts';
import { header, httpHandler, json } from './http.ts';

export interface AdminDeps {
  readonly environments: EnvironmentStore;
  readonly queryEngine: QueryEngine;
  readonly adminToken: AdminTokenSource;
  readonly clock?: Clock;
}

/** The admin API (`Authorization: Bearer <admin token>`): environments and lake SQL. */
export function makeHandler(deps: AdminDeps) {
  const clock = deps.clock ?? systemClock;
  return httpHandler(async (event) => {
    assertAdmin(header(event, 'authorization'), await deps.adminToken.token());
    switch (event.routeKey) {
      case 'POST /admin/v1/environments': {
        const request = parseJsonBody(createEnvironmentRequest, event.body, event.isBase64Encoded);
        const { stored, created } = newEnvironment(request, clock.now());
        await deps.environments.create(stored);
        return json(201, created);
      }
      case 'POST /admin/v1/sql': {
        const request = parseJsonBody(sqlRequest, event.body, event.isBase64Encoded);
        const rows = await deps.queryEngine.readRows(request.sql, request.params ?? [], { maxRows: MAX_SQL_ROWS + 1 });
        const truncated = rows.length > MAX_SQL_ROWS;
        return json(200, {
          rows: truncated ? rows.slice(0, MAX_SQL_ROWS) : rows,
          row_count: Math.min(rows.length, MAX_SQL_ROWS),
          truncated,
        });
      }
      default:
        throw new NotFoundError(`No admin route ${event.routeKey}.`);
    }
  });
}

export const handler = lazyHandler(() => {
  const config = loadConfig(['stateTable', 'adminSecretArn', 'athenaWorkgroup', 'glueDatabase']);
  return makeHandler({
    environments: new DynamoDbEnvironmentStore({
      client: DynamoDBDocumentClient.from(new DynamoDBClient({})),
      tableName: config.stateTable,
    }),
    queryEngine: new AthenaQueryEngine({
      client: new AthenaClient({}),
      workGroup: config.athenaWorkgroup,
      database: config.glueDatabase,
    }),
    adminToken: new SecretsManagerAdminTokenSource({
      client: new SecretsManagerClient({}),
      secretArn: config.adminSecretArn,
    }),
  });
});
