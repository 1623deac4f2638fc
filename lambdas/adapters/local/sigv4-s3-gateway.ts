import { createHash, createHmac, type Hash, type Hmac, randomBytes, timingSafeEqual } from 'node:crypto';
import {
  type Agent,
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream';
import { SignatureV4 } from '@smithy/signature-v4';
import type { LocalStorageCredentials } from './file-storage-credentials.ts';
import { unixSocketAgent } from './unix-socket-agent.ts';

type SignableRequest = Parameters<SignatureV4['presign']>[0];
type Sha256Constructor = ConstructorParameters<typeof SignatureV4>[0]['sha256'];
type SourceData = string | ArrayBuffer | ArrayBufferView;

const ALGORITHM = 'AWS4-HMAC-SHA256';
/** S3's longest presigned lifetime: 7 days. */
const MAX_EXPIRES_SECONDS = 604_800;
/** S3 refuses a header-signed request dated further than this from its clock. */
const MAX_SKEW_MS = 15 * 60_000;
const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
/** Per connection, not per request: never forwarded (RFC 9110 §7.6.1), and `expect` is answered here. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'expect',
]);

/** An S3 error answer: the status and the `<Code>` S3 gives for the same request. */
export interface S3Refusal {
  readonly status: 400 | 403;
  readonly code: string;
  readonly message: string;
}

/** The parts of an HTTP request a SigV4 check reads. */
export interface SignedRequest {
  readonly method: string;
  /** The request target as received: raw path, then `?` and the raw query. */
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
}

/** node:crypto behind smithy's hash interface (the SDK's own one is not a direct dependency). */
class NodeSha256 {
  private hash: Hash | Hmac;
  constructor(private readonly secret?: SourceData) {
    this.hash = NodeSha256.make(secret);
  }
  private static make(secret?: SourceData): Hash | Hmac {
    return secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: SourceData): void {
    this.hash.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {
    this.hash = NodeSha256.make(this.secret);
  }
}

function bytes(data: SourceData): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

const refuse = (status: 400 | 403, code: string, message: string): S3Refusal => ({ status, code, message });
const ACCESS_DENIED = refuse(403, 'AccessDenied', 'Access Denied');
const SIGNATURE_DOES_NOT_MATCH = refuse(
  403,
  'SignatureDoesNotMatch',
  'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
);

/** `20251201T093000Z` as an instant; undefined if it is not one. */
function parseAmzDate(value: string | undefined): Date | undefined {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value ?? '');
  if (!match) return undefined;
  const [, y, mo, d, h, mi, s] = match.map(Number) as [number, number, number, number, number, number, number];
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  return date.toISOString().slice(0, 19).replace(/[-:]/g, '') === `${value}`.slice(0, 15) ? date : undefined;
}

function sameHex(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

/** The query as SigV4 reads it: decoded names and values, repeated names as lists. */
function parseQuery(raw: string): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = Object.create(null);
  for (const [name, value] of new URLSearchParams(raw)) {
    const existing = query[name];
    query[name] = existing === undefined ? value : [...(Array.isArray(existing) ? existing : [existing]), value];
  }
  return query;
}

/**
 * Checks an S3 request's AWS Signature V4 as S3 does, with the stack's credentials:
 * the `Authorization` header form (SDK clients) and the presigned query form
 * (download links). The signature is recomputed by smithy's signer over the
 * request's method, raw path, query and the headers it names as signed; no
 * signature, a forged or re-dated one, a raised or past `X-Amz-Expires`, another
 * secret or another access key are refused. The payload hash is the signed value of
 * `x-amz-content-sha256` (header form) or `UNSIGNED-PAYLOAD` (query form); the
 * body itself is not hashed here (it streams through), nor are aws-chunked chunk
 * signatures checked: the seed signature over the headers is.
 * Resolves to undefined when the request is S3's to answer, else to S3's refusal.
 */
export async function checkS3Signature(
  request: SignedRequest,
  options: { readonly credentials: LocalStorageCredentials; readonly region: string; readonly now?: Date },
): Promise<S3Refusal | undefined> {
  const now = options.now ?? new Date();
  const queryAt = request.url.indexOf('?');
  const path = queryAt < 0 ? request.url : request.url.slice(0, queryAt);
  const query = parseQuery(queryAt < 0 ? '' : request.url.slice(queryAt + 1));
  const authorization = headerValue(request.headers, 'authorization');
  const presigned = 'X-Amz-Algorithm' in query;
  const signatureV2 = 'Signature' in query || 'AWSAccessKeyId' in query;

  if ([authorization !== undefined, presigned, signatureV2].filter(Boolean).length > 1) {
    return refuse(
      400,
      'InvalidArgument',
      'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified',
    );
  }
  if (!presigned && authorization === undefined && !signatureV2) return ACCESS_DENIED;
  if (signatureV2 || (authorization !== undefined && !authorization.startsWith(`${ALGORITHM} `))) {
    return refuse(
      400,
      'InvalidRequest',
      'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.',
    );
  }

  // What the request claims: credential scope, date, signed headers, signature.
  const malformed = presigned
    ? (message: string) => refuse(400, 'AuthorizationQueryParametersError', message)
    : (message: string) => refuse(400, 'AuthorizationHeaderMalformed', message);
  let credential: string | undefined;
  let signedHeaderList: string | undefined;
  let provided: string | undefined;
  let amzDate: string | undefined;
  let expiresIn: number | undefined;
  if (presigned) {
    const single = (name: string) => (typeof query[name] === 'string' ? (query[name] as string) : undefined);
    if (single('X-Amz-Algorithm') !== ALGORITHM) return malformed(`X-Amz-Algorithm only supports "${ALGORITHM}"`);
    credential = single('X-Amz-Credential');
    signedHeaderList = single('X-Amz-SignedHeaders');
    provided = single('X-Amz-Signature');
    amzDate = single('X-Amz-Date');
    const expires = single('X-Amz-Expires');
    if (!credential || !signedHeaderList || !provided || !amzDate || expires === undefined) {
      return malformed(
        'Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.',
      );
    }
    if (!/^\d{1,7}$/.test(expires)) return malformed('X-Amz-Expires should be a number');
    expiresIn = Number(expires);
    if (expiresIn < 1) return malformed('X-Amz-Expires must be non-negative');
    if (expiresIn > MAX_EXPIRES_SECONDS) {
      return malformed(`X-Amz-Expires must be less than a week (in seconds) that is; ${MAX_EXPIRES_SECONDS}`);
    }
  } else {
    const fields = new Map<string, string>();
    for (const part of (authorization ?? '').slice(ALGORITHM.length + 1).split(',')) {
      const at = part.indexOf('=');
      if (at > 0) fields.set(part.slice(0, at).trim(), part.slice(at + 1).trim());
    }
    credential = fields.get('Credential');
    signedHeaderList = fields.get('SignedHeaders');
    provided = fields.get('Signature');
    amzDate = headerValue(request.headers, 'x-amz-date');
    if (!credential || !signedHeaderList || !provided) {
      return malformed('The authorization header is malformed; it needs Credential, SignedHeaders and Signature.');
    }
    if (amzDate === undefined)
      return refuse(403, 'AccessDenied', 'AWS authentication requires a valid x-amz-date header');
  }

  const [accessKeyId, scopeDate, region, service, terminator, ...rest] = credential.split('/');
  if (rest.length > 0 || !scopeDate || !region || service !== 's3' || terminator !== 'aws4_request') {
    return malformed(`the credential ${JSON.stringify(credential)} is not <key>/<date>/<region>/s3/aws4_request`);
  }
  if (!sameHex(accessKeyId ?? '', options.credentials.accessKeyId)) {
    return refuse(403, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.');
  }
  if (region !== options.region) {
    return malformed(`the region '${region}' is wrong; expecting '${options.region}'`);
  }
  const signingDate = parseAmzDate(amzDate);
  if (!signingDate)
    return refuse(403, 'AccessDenied', 'X-Amz-Date must be in the ISO8601 Long Format "yyyyMMddTHHmmssZ"');
  if (scopeDate !== amzDate.slice(0, 8))
    return malformed('Invalid credential date. Date is not the same as X-Amz-Date.');

  // S3 signs every x-amz-* header a request carries, and always the host.
  const signed = signedHeaderList.split(';');
  if (!signed.includes('host')) return malformed('the signed headers must include host');
  const unsigned = Object.keys(request.headers).filter((name) => name.startsWith('x-amz-') && !signed.includes(name));
  if (unsigned.length > 0)
    return refuse(403, 'AccessDenied', 'There were headers present in the request which were not signed');
  if (!presigned && !signed.includes('x-amz-content-sha256')) {
    return refuse(400, 'InvalidRequest', 'Missing required header for this request: x-amz-content-sha256');
  }

  if (presigned && expiresIn !== undefined) {
    if (signingDate.getTime() - now.getTime() > MAX_SKEW_MS)
      return refuse(403, 'AccessDenied', 'Request is not yet valid');
    if (now.getTime() > signingDate.getTime() + expiresIn * 1000)
      return refuse(403, 'AccessDenied', 'Request has expired');
  } else if (Math.abs(now.getTime() - signingDate.getTime()) > MAX_SKEW_MS) {
    return refuse(
      403,
      'RequestTimeTooSkewed',
      'The difference between the request time and the current time is too large.',
    );
  }

  // Recompute with smithy's signer over only what the client signed, and compare.
  const headers: Record<string, string> = {};
  for (const name of signed) {
    const value = headerValue(request.headers, name);
    if (value !== undefined) headers[name] = value;
  }
  const toSign: SignableRequest = {
    method: request.method,
    protocol: 'http:',
    hostname: headers.host ?? '',
    path,
    query,
    headers,
  };
  const signer = new SignatureV4({
    credentials: options.credentials,
    region: options.region,
    service: 's3',
    sha256: NodeSha256 as unknown as Sha256Constructor,
    // S3 signs the path as sent: no normalising, no second encoding.
    uriEscapePath: false,
    applyChecksum: false,
  });
  let expected: string | undefined;
  const signable = new Set(signed);
  if (presigned) {
    const payloadSigned = signable.has('x-amz-content-sha256');
    const result = await signer.presign(
      {
        ...toSign,
        // A presigned S3 request's payload is always UNSIGNED-PAYLOAD unless it signed the header itself.
        headers: payloadSigned ? headers : { ...headers, 'x-amz-content-sha256': UNSIGNED_PAYLOAD },
      },
      {
        signingDate,
        expiresIn,
        signableHeaders: signable,
        unsignableHeaders: payloadSigned ? undefined : new Set(['x-amz-content-sha256']),
        unhoistableHeaders: new Set([...signable, 'x-amz-content-sha256']),
      },
    );
    expected = typeof result.query?.['X-Amz-Signature'] === 'string' ? result.query['X-Amz-Signature'] : undefined;
  } else {
    const result = await signer.sign(toSign, { signingDate, signableHeaders: signable });
    expected = /Signature=([0-9a-f]+)$/.exec(String(result.headers.authorization ?? ''))?.[1];
  }
  return expected !== undefined && sameHex(provided, expected) ? undefined : SIGNATURE_DOES_NOT_MATCH;
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

function sendError(response: ServerResponse, refusal: { status: number; code: string; message: string }): void {
  const body =
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<Error><Code>${refusal.code}</Code><Message>${escapeXml(refusal.message)}</Message>` +
    `<RequestId>${randomBytes(8).toString('hex').toUpperCase()}</RequestId></Error>`;
  // The refused body is not read: close the connection rather than drain it.
  response.writeHead(refusal.status, {
    'content-type': 'application/xml',
    'content-length': Buffer.byteLength(body),
    connection: 'close',
  });
  response.end(body);
}

const queryOf = (url: string | undefined) => new URLSearchParams((url ?? '').split('?')[1] ?? '');

/** A part upload: `?partNumber=…&uploadId=…`. */
function isPartUpload(url: string | undefined): boolean {
  const query = queryOf(url);
  return query.has('partNumber') && query.has('uploadId');
}

/** A request on one multipart upload: `?uploadId=…`. */
function isMultipartUpload(url: string | undefined): boolean {
  return queryOf(url).has('uploadId');
}

/** `x-amz-copy-source` (`bucket/key`, URL-encoded, an optional leading `/`) as an s3rver path; undefined if not one. */
function parseCopySource(header: string): string | undefined {
  if (header.includes('?')) return undefined; // a versionId: s3rver keeps no versions
  const path = header.startsWith('/') ? header : `/${header}`;
  const [, bucket, ...key] = path.split('/');
  return bucket && key.length > 0 && key.join('/') !== '' ? path : undefined;
}

/** s3rver's answer, status and body, as the gateway's. */
function relay(answer: IncomingMessage, response: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    response.writeHead(answer.statusCode ?? 500, forwardable(answer.headers));
    pipeline(answer, response, () => resolve());
  });
}

function forwardable(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
  }
  return out;
}

/**
 * The local stack's S3 as clients and download links see it: a loopback port that
 * checks every request's AWS Signature V4 (`checkS3Signature`) and streams what
 * passes, unchanged, to the s3rver listening on a private Unix socket. s3rver
 * checks only that the access key id is known; this is what makes the local S3
 * refuse what AWS would (forged, expired or unsigned links, anonymous listings).
 */
export class SigV4S3Gateway {
  private readonly server: Server;
  private readonly upstream: Agent;

  constructor(
    private readonly options: {
      readonly credentials: LocalStorageCredentials;
      readonly region: string;
      /** The Unix socket s3rver listens on. */
      readonly upstreamSocket: string;
    },
  ) {
    this.upstream = unixSocketAgent(options.upstreamSocket);
    this.server = createServer((request, response) => {
      this.handle(request, response).catch(() => {
        if (!response.headersSent) sendError(response, SIGNATURE_DOES_NOT_MATCH);
        else response.destroy();
      });
    });
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const refusal = await checkS3Signature(
      { method: request.method ?? 'GET', url: request.url ?? '/', headers: request.headers },
      { credentials: this.options.credentials, region: this.options.region },
    );
    if (refusal) {
      sendError(response, refusal);
      return;
    }
    if (request.method === 'PUT' && request.headers['x-amz-copy-source'] !== undefined && isPartUpload(request.url)) {
      await this.copyPart(request, response);
      return;
    }
    if (request.method === 'DELETE' && isMultipartUpload(request.url)) {
      // AbortMultipartUpload, which s3rver refuses (405): its parts are never assembled, so
      // answering S3's 204 leaves the object as it was, as S3 does.
      request.resume();
      response.writeHead(204).end();
      return;
    }
    const upstream = httpRequest({
      agent: this.upstream,
      method: request.method,
      path: request.url,
      headers: forwardable(request.headers),
    });
    upstream.on('response', (answer) => {
      response.writeHead(answer.statusCode ?? 500, answer.statusMessage, forwardable(answer.headers));
      pipeline(answer, response, () => undefined);
    });
    // s3rver gone (or the client, which destroys `upstream`): S3's 500 if nothing was answered yet,
    // else cut the answer short (a client must not take half a file for a whole one).
    let failedOnce = false;
    const failed = () => {
      if (failedOnce) return;
      failedOnce = true;
      if (!response.headersSent) {
        sendError(response, {
          status: 500,
          code: 'InternalError',
          message: 'We encountered an internal error. Please try again.',
        });
      } else {
        response.destroy();
      }
    };
    // Also once the body is sent, when pipeline no longer listens.
    upstream.on('error', failed);
    // Bodies stream both ways (multipart parts of large exports pass through here).
    pipeline(request, upstream, (error) => {
      if (error) failed();
    });
  }

  /**
   * UploadPartCopy, which s3rver answers NotImplemented: the source object's bytes
   * (or its `x-amz-copy-source-range`) are read from s3rver and uploaded as the part,
   * and the answer is S3's `CopyPartResult`. Only here, so the same S3 adapter and
   * assembly code run locally as on AWS. The request's own signature was checked; the
   * two requests to s3rver behind it are its own (s3rver serves unsigned requests on
   * its private socket).
   */
  private async copyPart(request: IncomingMessage, response: ServerResponse): Promise<void> {
    request.resume();
    const source = parseCopySource(headerValue(request.headers, 'x-amz-copy-source') ?? '');
    const rangeHeader = headerValue(request.headers, 'x-amz-copy-source-range');
    const range = rangeHeader === undefined ? undefined : /^bytes=(\d+)-(\d+)$/.exec(rangeHeader);
    if (!source || (rangeHeader !== undefined && (!range || Number(range[1]) > Number(range[2])))) {
      sendError(
        response,
        refuse(400, 'InvalidArgument', 'The x-amz-copy-source or x-amz-copy-source-range header is invalid'),
      );
      return;
    }
    const read = await this.upstreamCall({
      method: 'GET',
      path: source,
      headers: rangeHeader === undefined ? {} : { range: rangeHeader },
    });
    if (read.statusCode !== 200 && read.statusCode !== 206) {
      await relay(read, response);
      return;
    }
    const length = Number(read.headers['content-length']);
    if (range && length !== Number(range[2]) - Number(range[1]) + 1) {
      read.resume();
      sendError(response, { status: 416, code: 'InvalidRange', message: 'The requested range is not satisfiable' });
      return;
    }
    const write = await this.upstreamCall(
      { method: 'PUT', path: request.url ?? '/', headers: { 'content-length': String(length) } },
      read,
    );
    if (write.statusCode !== 200) {
      await relay(write, response);
      return;
    }
    write.resume();
    const body =
      '<?xml version="1.0" encoding="UTF-8"?>\n' +
      `<CopyPartResult><LastModified>${new Date().toISOString()}</LastModified>` +
      `<ETag>${escapeXml(String(write.headers.etag ?? ''))}</ETag></CopyPartResult>`;
    response.writeHead(200, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
    response.end(body);
  }

  /** One request of the gateway's own to s3rver; resolves with its answer (body unread). */
  private upstreamCall(
    options: { method: string; path: string; headers: OutgoingHttpHeaders },
    body?: IncomingMessage,
  ): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const call = httpRequest({ agent: this.upstream, ...options });
      call.on('response', resolve);
      call.on('error', reject);
      if (body) pipeline(body, call, (error) => error && reject(error));
      else call.end();
    });
  }

  /** Listens on `host` (loopback) and resolves with the endpoint URL. */
  listen(port: number, host: string): Promise<string> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve(`http://${host}:${this.port}`);
      });
    });
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    this.upstream.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
