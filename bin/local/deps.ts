/**
 * The local stack's adapters: dynalite (DynamoDB) and s3rver (S3) on private Unix
 * sockets, the SigV4 gateway in front of s3rver, the durable event log with Parquet
 * compaction (Firehose), DuckDB (Athena), and the stores over them. DynamoDB and S3
 * are the AWS adapters with a local endpoint.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import dynalite from 'dynalite';
import S3rver from 's3rver';
import type { OwnEndpoint } from '../../lambdas/adapters/aws/customer-endpoint-http.ts';
import { DynamoDbAutomaticExportStore } from '../../lambdas/adapters/aws/dynamodb-automatic-export-store.ts';
import { DynamoDbCatalogStore } from '../../lambdas/adapters/aws/dynamodb-catalog-store.ts';
import { DynamoDbCompanyExportJobs } from '../../lambdas/adapters/aws/dynamodb-company-export-jobs.ts';
import { DynamoDbEnvironmentStore } from '../../lambdas/adapters/aws/dynamodb-environment-store.ts';
import { DynamoDbEventsExportJobs } from '../../lambdas/adapters/aws/dynamodb-events-export-jobs.ts';
import { DynamoDbFactsManifestStore } from '../../lambdas/adapters/aws/dynamodb-facts-manifest-store.ts';
import { S3CustomerBuckets } from '../../lambdas/adapters/aws/s3-customer-buckets.ts';
import { S3ObjectStore } from '../../lambdas/adapters/aws/s3-object-store.ts';
import { DuckDbLakeCompactor, DuckDbQueryEngine } from '../../lambdas/adapters/local/duckdb-lake.ts';
import { DurableLogEventSink } from '../../lambdas/adapters/local/durable-log-event-sink.ts';
import { FileKeySecretBox } from '../../lambdas/adapters/local/file-key-secret-box.ts';
import { FileSecretSource } from '../../lambdas/adapters/local/file-secret-source.ts';
import {
  type LocalStorageCredentials,
  openLocalStorageCredentials,
} from '../../lambdas/adapters/local/file-storage-credentials.ts';
import { FolderFactsBuildFiles } from '../../lambdas/adapters/local/folder-facts-build-files.ts';
import { FolderObjectStore } from '../../lambdas/adapters/local/folder-object-store.ts';
import { SigV4S3Gateway } from '../../lambdas/adapters/local/sigv4-s3-gateway.ts';
import { ensureStateTable } from '../../lambdas/adapters/local/state-table.ts';
import { unixSocketAgent } from '../../lambdas/adapters/local/unix-socket-agent.ts';
import { LOCAL_EXPORTS_BUCKET, LOCAL_RESULTS_BUCKET, LOCAL_STATE_TABLE, type LocalConfig } from './config.ts';

const LOCAL_REGION = 'us-east-1';
/**
 * The host in the DynamoDB client's endpoint: never resolved (its agent connects to
 * dynalite's Unix socket), and `.invalid` so that a client built without that agent
 * fails at once instead of reaching something else.
 */
const LOCAL_DYNAMODB_ENDPOINT = 'http://dynamodb.featurelake.invalid';

/** The stack's adapters, each open until the stack closes. */
export interface LocalDeps {
  readonly adminToken: FileSecretSource;
  /** Signs and checks download links: `$FEATURELAKE_HOME/download-link.key`, as Secrets Manager holds it on AWS. */
  readonly downloadLinkKey: FileSecretSource;
  /**
   * The stack's S3 as clients and download links reach it: the signature-checking
   * gateway in front of s3rver (which listens only on a private Unix socket).
   */
  readonly s3Endpoint: string;
  /** The stack's own storage on TCP (the S3 gateway's port): never a customer's delivery endpoint. */
  readonly storagePorts: readonly number[];
  /** The Parquet lake the event log compacts into and DuckDB reads. */
  readonly lakeDir: string;
  /** Where DuckDB writes a query's CSV before it is stored as the query's result. */
  readonly scratchDir: string;
  readonly environments: DynamoDbEnvironmentStore;
  readonly catalog: DynamoDbCatalogStore;
  readonly companyJobs: DynamoDbCompanyExportJobs;
  readonly eventsJobs: DynamoDbEventsExportJobs;
  readonly automaticExports: DynamoDbAutomaticExportStore;
  /** Each environment's daily facts manifest (the state table, as on AWS). */
  readonly factsManifest: DynamoDbFactsManifestStore;
  /** The daily facts' build folders in the lake folder (cleanup lists and deletes them). */
  readonly factsFiles: FolderFactsBuildFiles;
  /** Writes a facts build into the lake folder: the local stand-in for the workflow's UNLOAD. */
  readonly factsWriter: DuckDbQueryEngine;
  /** Export files, in the stack's S3. */
  readonly files: S3ObjectStore;
  /** Query results: on disk rather than through the in-process s3rver (see FolderObjectStore). */
  readonly results: FolderObjectStore;
  readonly sink: DurableLogEventSink;
  readonly queryEngine: DuckDbQueryEngine;
  /** Stands in for KMS: bucket secrets are sealed with a key that lives only in the home. */
  readonly secretBox: FileKeySecretBox;
  readonly customerBuckets: S3CustomerBuckets;
  /** A new client of the stack's own S3 (through the gateway, with the home's credentials). */
  newS3Client(): S3Client;
  /** A new client of the stack's own DynamoDB (dynalite, over its Unix socket). */
  newDynamoClient(): DynamoDBClient;
}

export interface LocalDepsWiring {
  /** The API's URL once it listens: automatic exports are refused there too. */
  readonly apiUrl: () => string | undefined;
  /** Takes each thing to stop, in the order opened; the caller stops them in reverse. */
  readonly closeLater: (closer: () => Promise<void> | void) => void;
}

/** Opens the stack's storage and every adapter over it, in `config.home`. */
export async function openLocalDeps(config: LocalConfig, wiring: LocalDepsWiring): Promise<LocalDeps> {
  const { home } = config;
  const { closeLater } = wiring;
  await mkdir(home, { recursive: true });
  const adminToken = await FileSecretSource.open(join(home, 'admin-token'));
  const downloadLinkKey = await FileSecretSource.open(join(home, 'download-link.key'));
  const storage = await startStorage(home, closeLater);

  const dynamoClient = localDynamoClient(storage);
  closeLater(() => dynamoClient.destroy());
  await ensureStateTable(dynamoClient, LOCAL_STATE_TABLE);
  const documents = DynamoDBDocumentClient.from(dynamoClient);
  const s3Client = localS3Client(storage);
  closeLater(() => s3Client.destroy());

  const lakeDir = join(home, 'lake');
  const compactor = await DuckDbLakeCompactor.open(lakeDir);
  closeLater(() => compactor.close());
  const sink = await DurableLogEventSink.open({
    logDir: join(home, 'log'),
    compact: compactor.compact,
    onError: (error) => console.error('event log compaction failed (will retry):', error),
  });
  closeLater(() => sink.close());
  const scratchDir = join(home, 'tmp', 'query-results');
  // Files on their way into s3rver (S3ObjectStore's spoolDir): what a killed stack left is of no use.
  const spoolDir = join(home, 'tmp', 'spool');
  await rm(spoolDir, { recursive: true, force: true });
  const queryEngine = await DuckDbQueryEngine.open({
    lakeDir,
    beforeQuery: () => sink.flushToLake(),
    csvOutputDir: scratchDir,
    memoryLimit: config.queryMemoryLimit,
    spillDir: join(home, 'tmp', 'spill'),
    readTimeoutMs: config.sqlTimeoutMs,
  });
  closeLater(() => queryEngine.close());

  // The stack's own TCP listeners, never a customer's automatic-export endpoint (a listener on a
  // local address is refused on every local address with its port). dynalite and s3rver sit on
  // Unix sockets, so the S3 gateway and the API are all there is; the API's port is known after listen.
  const ownEndpoints = (): OwnEndpoint[] => {
    const apiUrl = wiring.apiUrl();
    return [
      ...storage.ports.map((port) => ({ host: '127.0.0.1', port, name: 'storage' })),
      ...(apiUrl ? [{ ...hostAndPort(apiUrl), name: 'API' }] : []),
    ];
  };
  const table = { client: documents, tableName: LOCAL_STATE_TABLE };
  return {
    adminToken,
    downloadLinkKey,
    s3Endpoint: storage.s3Endpoint,
    storagePorts: storage.ports,
    lakeDir,
    scratchDir,
    environments: new DynamoDbEnvironmentStore(table),
    catalog: new DynamoDbCatalogStore(table),
    companyJobs: new DynamoDbCompanyExportJobs(table),
    eventsJobs: new DynamoDbEventsExportJobs(table),
    automaticExports: new DynamoDbAutomaticExportStore(table),
    factsManifest: new DynamoDbFactsManifestStore(table),
    factsFiles: new FolderFactsBuildFiles({ lakeDir }),
    factsWriter: queryEngine,
    // An export file is spooled to disk and sent in one PUT: s3rver, in this process,
    // reassembles a multipart upload's parts (a 1 GB export: 12 s multipart, 4 s one PUT).
    files: new S3ObjectStore({ client: s3Client, spoolDir }),
    results: new FolderObjectStore({ root: join(home, 'query-results'), removeAfterRead: true }),
    sink,
    queryEngine,
    secretBox: await FileKeySecretBox.open(join(home, 'secret-box.key')),
    customerBuckets: new S3CustomerBuckets({
      addresses: { privateAddresses: config.privateEndpoints, ownEndpoints },
    }),
    newS3Client: () => localS3Client(storage),
    newDynamoClient: () => localDynamoClient(storage),
  };
}

/** How the stack's own storage is reached: dynalite's socket, the S3 gateway, the home's credentials. */
interface LocalStorage {
  readonly credentials: LocalStorageCredentials;
  readonly dynamoSocket: string;
  readonly s3Endpoint: string;
  /** The gateway's TCP port (dynalite and s3rver listen on Unix sockets). */
  readonly ports: readonly number[];
}

/** Starts dynalite and s3rver on private Unix sockets, and the SigV4 gateway that is s3rver's only door. */
async function startStorage(home: string, closeLater: LocalDepsWiring['closeLater']): Promise<LocalStorage> {
  const credentials = await openLocalStorageCredentials(join(home, 'local-storage-credentials.json'));
  // dynalite and s3rver listen on Unix sockets in a folder only this user can enter
  // (mkdtemp makes it 0700), never on a TCP port another process could reach. Under
  // the system's temp folder: a socket path must stay under ~107 bytes.
  const sockets = await privateSocketFolder(home);
  closeLater(() => rm(sockets, { recursive: true, force: true }));

  const dynamo = dynalite({ path: join(home, 'dynamodb'), createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const dynamoSocket = join(sockets, 'dynamodb.sock');
  await listenOnSocket(dynamo, dynamoSocket);
  closeLater(() => new Promise<void>((done) => dynamo.close(() => done())));

  await mkdir(join(home, 's3'), { recursive: true });
  const s3Socket = join(sockets, 's3.sock');
  const s3 = new S3rver({
    // A pipe path in place of a port: s3rver passes it to server.listen as it is.
    port: s3Socket as unknown as number,
    silent: true,
    directory: join(home, 's3'),
    configureBuckets: [
      { name: LOCAL_EXPORTS_BUCKET, configs: [] },
      { name: LOCAL_RESULTS_BUCKET, configs: [] },
    ],
  });
  await s3.run();
  closeLater(() => s3.close());
  // s3rver checks no signature: every S3 request passes the gateway's check first.
  const gateway = new SigV4S3Gateway({ credentials, region: LOCAL_REGION, upstreamSocket: s3Socket });
  const s3Endpoint = await gateway.listen(0, '127.0.0.1');
  closeLater(() => gateway.close());
  return { credentials, dynamoSocket, s3Endpoint, ports: [gateway.port] };
}

function localDynamoClient(storage: LocalStorage): DynamoDBClient {
  return new DynamoDBClient({
    endpoint: LOCAL_DYNAMODB_ENDPOINT,
    region: LOCAL_REGION,
    credentials: storage.credentials,
    requestHandler: new NodeHttpHandler({ httpAgent: unixSocketAgent(storage.dynamoSocket) }),
  });
}

function localS3Client(storage: LocalStorage): S3Client {
  return new S3Client({
    endpoint: storage.s3Endpoint,
    region: LOCAL_REGION,
    credentials: storage.credentials,
    forcePathStyle: true,
    // s3rver stores the SDK's streaming checksum framing inside the object otherwise.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

function hostAndPort(url: string): { host: string; port: number } {
  const { hostname, port, protocol } = new URL(url);
  return { host: hostname, port: Number(port || (protocol === 'https:' ? 443 : 80)) };
}

function listenOnSocket(
  server: {
    listen(path: string, done: () => void): unknown;
    once(event: 'error', listener: (error: Error) => void): unknown;
  },
  path: string,
): Promise<void> {
  return new Promise((done, reject) => {
    server.once('error', reject);
    server.listen(path, done);
  });
}

/**
 * A fresh 0700 folder for the storage sockets. Its path is noted in the home, so
 * that the start after a `kill -9` removes the folder the killed stack left behind.
 */
async function privateSocketFolder(home: string): Promise<string> {
  const note = join(home, 'sockets-folder');
  const prefix = join(tmpdir(), 'featurelake-sockets-');
  const left = (await readFile(note, 'utf8').catch(() => '')).trim();
  // Only ever a folder this function made (mkdtemp's suffix), never another path.
  if (left.startsWith(prefix) && /^[A-Za-z0-9]{6}$/.test(left.slice(prefix.length))) {
    await rm(left, { recursive: true, force: true });
  }
  const folder = await mkdtemp(prefix);
  await writeFile(note, `${folder}\n`, { mode: 0o600 });
  return folder;
}
