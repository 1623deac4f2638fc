import * as dns from 'node:dns';
import * as http from 'node:http';
import * as https from 'node:https';
import { isIP, type LookupFunction, Socket } from 'node:net';
import { networkInterfaces } from 'node:os';
import { type Duplex, type Readable, Transform } from 'node:stream';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import ipaddr from 'ipaddr.js';
import type {
  AddressRefusal,
  EndpointGuardFacts,
  EndpointTimeouts,
} from '../../core/automatic-export/customer-bucket.ts';

/**
 * The HTTP layer under the S3 client that talks to a customer's endpoint. The
 * endpoint is the customer's to choose, so this layer, not the S3 client above
 * it, bounds what reaching it may cost and where it may lead:
 *
 * - every answer is counted as it streams in and cut off past a byte limit
 *   (Content-Length is checked first, but chunked answers have none);
 * - connecting, and the whole exchange, have deadlines of their own (smithy's
 *   `requestTimeout` only logs a warning unless told to throw, and counts idleness);
 * - the address a socket is about to connect to, after DNS, is checked against the
 *   rules (never one of this server's own listeners; no private address where those
 *   are refused), so a name that resolves somewhere else than its text suggests,
 *   or that changed since the settings were saved, is caught where it matters.
 */

/** Whether an endpoint may resolve to a private, loopback or other non-public address. */
export type PrivateEndpoints = 'allow' | 'deny';

/** One of this server's own listeners, which a customer endpoint must never be. */
export interface OwnEndpoint {
  readonly host: string;
  readonly port: number;
  /** How messages name it. @default 'storage' */
  readonly name?: string;
}

export interface EndpointAddressRules {
  /**
   * `deny` (AWS): only public unicast addresses. `allow` (the local stack): also
   * loopback and private-network addresses, where a developer's own S3 server lives;
   * link-local, unspecified, multicast and reserved addresses stay refused.
   */
  readonly privateAddresses: PrivateEndpoints;
  /**
   * This server's own listeners, asked at every check (some are known only once
   * listening). A listener on a local address is refused on every local address
   * (`127.0.0.1`, `0.0.0.0`, `::1`, this machine's interface addresses) with its port.
   */
  readonly ownEndpoints?: () => readonly OwnEndpoint[];
  /** DNS resolution (tests inject one). @default dns.lookup */
  readonly lookup?: LookupFunction;
}

/** The exchange was stopped here: too large, too slow, or an address that is not allowed. */
export class EndpointGuardError extends Error {
  constructor(readonly facts: EndpointGuardFacts) {
    super(`customer endpoint refused by featurelake: ${JSON.stringify(facts)}`);
    this.name = 'EndpointGuardError';
  }
}

/** Finds the guard's error in what the SDK threw (it may be wrapped as a cause, or in an AggregateError). */
export function findEndpointGuardError(error: unknown, depth = 0): EndpointGuardError | undefined {
  if (error instanceof EndpointGuardError) return error;
  if (depth > 3 || typeof error !== 'object' || error === null) return undefined;
  const { cause, errors } = error as { cause?: unknown; errors?: unknown };
  for (const inner of [cause, ...(Array.isArray(errors) ? errors : [])]) {
    const found = findEndpointGuardError(inner, depth + 1);
    if (found) return found;
  }
  return undefined;
}

// ---------------------------------------------------------------------------
// Which addresses
// ---------------------------------------------------------------------------

/** Ranges allowed besides public unicast when private endpoints are: where a developer's S3 server can be. */
const ALLOWED_PRIVATE_RANGES: ReadonlySet<string> = new Set(['loopback', 'private', 'uniqueLocal', 'carrierGradeNat']);

function parseAddress(address: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  // process() turns an IPv4-mapped IPv6 address (::ffff:127.0.0.1) into the IPv4 one it is.
  return ipaddr.isValid(address) ? ipaddr.process(address) : undefined;
}

/** Loopback, unspecified (connecting to 0.0.0.0 or :: reaches this machine), or one of this machine's interfaces. */
function isThisMachine(parsed: ipaddr.IPv4 | ipaddr.IPv6): boolean {
  const range = parsed.range();
  if (range === 'loopback' || range === 'unspecified') return true;
  const text = parsed.toString();
  return Object.values(networkInterfaces()).some((entries) =>
    (entries ?? []).some((entry) => parseAddress(entry.address)?.toString() === text),
  );
}

function isThisMachineHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (bare === 'localhost') return true;
  const parsed = parseAddress(bare);
  return parsed !== undefined && isThisMachine(parsed);
}

/** Why connecting to `address:port` is refused under these rules, or undefined when it is allowed. */
export function addressRefusal(rules: EndpointAddressRules, address: string, port: number): AddressRefusal | undefined {
  const parsed = parseAddress(address);
  if (!parsed) return { why: 'private', address, port, range: 'reserved' };
  const normal = parsed.toString();
  for (const own of rules.ownEndpoints?.() ?? []) {
    if (own.port !== port) continue;
    const sameAddress = parseAddress(own.host.replace(/^\[|\]$/g, ''))?.toString() === normal;
    if (sameAddress || (isThisMachineHost(own.host) && isThisMachine(parsed))) {
      return { why: 'own', address: normal, port, name: own.name ?? 'storage' };
    }
  }
  const range = parsed.range();
  if (range === 'unicast') return undefined;
  if (rules.privateAddresses === 'allow' && ALLOWED_PRIVATE_RANGES.has(range)) return undefined;
  return { why: 'private', address: normal, port, range };
}

/**
 * The check on the endpoint's text, before any request: an address written in
 * any spelling (the URL parser has already turned `127.1`, `2130706433` and
 * `0x7f.0.0.1` into `127.0.0.1`), or `localhost`. Other names are checked when
 * they resolve, at connect time.
 */
export function endpointTextRefusal(rules: EndpointAddressRules, endpoint: string): AddressRefusal | undefined {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return undefined;
  }
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  const host = url.hostname
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '')
    .toLowerCase();
  // RFC 6761: localhost and every name under it are loopback, whatever a resolver says.
  const addresses = host === 'localhost' || host.endsWith('.localhost') ? ['127.0.0.1', '::1'] : [host];
  for (const address of addresses) {
    if (isIP(address) === 0) continue;
    const refused = addressRefusal(rules, address, port);
    if (refused) return refused;
  }
  return undefined;
}

// ---------------------------------------------------------------------------
// Where sockets connect
// ---------------------------------------------------------------------------

type ConnectionCallback = (error: Error | null, stream: Duplex) => void;

/** Wraps DNS resolution so that every address a name resolves to is checked before it is connected to. */
function guardedLookup(rules: EndpointAddressRules, port: number, lookup: LookupFunction): LookupFunction {
  return (hostname, options, callback) => {
    lookup(hostname, options, (error, address, family) => {
      if (error) return callback(error, address, family);
      for (const resolved of typeof address === 'string' ? [address] : address.map((entry) => entry.address)) {
        const refused = addressRefusal(rules, resolved, port);
        if (refused) {
          return callback(new EndpointGuardError({ reason: 'forbidden_address', ...refused }), address, family);
        }
      }
      callback(null, address, family);
    });
  };
}

/** What both agents do in createConnection: check the address, resolve through the check, bound the connect time. */
function guardedConnection(
  rules: EndpointAddressRules,
  connectMs: number,
  options: http.ClientRequestArgs,
  callback: ConnectionCallback | undefined,
  connect: (options: http.ClientRequestArgs, callback: ConnectionCallback | undefined) => Duplex | null | undefined,
): Duplex | null | undefined {
  const port = Number(options.port);
  const host = String(options.host ?? 'localhost').replace(/^\[|\]$/g, '');
  // An address literal is connected to without a lookup: check it here.
  const refused = isIP(host) === 0 ? undefined : addressRefusal(rules, host, port);
  if (refused) {
    const error = new EndpointGuardError({ reason: 'forbidden_address', ...refused });
    const socket = new Socket();
    if (callback) callback(error, socket);
    else socket.destroy(error);
    return socket;
  }
  const lookup = guardedLookup(rules, port, rules.lookup ?? (dns.lookup as LookupFunction));
  const socket = connect({ ...options, lookup } as http.ClientRequestArgs, callback);
  if (socket) {
    const timer = setTimeout(
      () => socket.destroy(new EndpointGuardError({ reason: 'timeout', phase: 'connect', ms: connectMs })),
      connectMs,
    );
    const clear = () => clearTimeout(timer);
    socket.once('connect', clear);
    socket.once('close', clear);
  }
  return socket;
}

class GuardedHttpAgent extends http.Agent {
  constructor(
    private readonly rules: EndpointAddressRules,
    private readonly connectMs: number,
  ) {
    super({ keepAlive: true, maxSockets: 50 });
  }
  override createConnection(options: http.ClientRequestArgs, callback?: ConnectionCallback) {
    return guardedConnection(this.rules, this.connectMs, options, callback, (o, c) => super.createConnection(o, c));
  }
}

class GuardedHttpsAgent extends https.Agent {
  constructor(
    private readonly rules: EndpointAddressRules,
    private readonly connectMs: number,
  ) {
    super({ keepAlive: true, maxSockets: 50 });
  }
  override createConnection(options: https.RequestOptions, callback?: ConnectionCallback) {
    return guardedConnection(this.rules, this.connectMs, options, callback, (o, c) => super.createConnection(o, c));
  }
}

// ---------------------------------------------------------------------------
// How much and how long
// ---------------------------------------------------------------------------

export interface CustomerEndpointBounds {
  readonly timeouts: EndpointTimeouts;
  /** Most bytes of any one answer's body. */
  readonly maxAnswerBytes: number;
  readonly addresses: EndpointAddressRules;
}

/**
 * smithy's Node handler with the bounds above: the guarded agents, a deadline
 * from the request's start to its answer's last byte, and a byte count on the
 * answer that destroys it (and its socket) past the limit.
 */
export class CustomerEndpointHttpHandler extends NodeHttpHandler {
  constructor(private readonly bounds: CustomerEndpointBounds) {
    const { addresses, timeouts } = bounds;
    super({
      httpAgent: new GuardedHttpAgent(addresses, timeouts.connectMs),
      httpsAgent: new GuardedHttpsAgent(addresses, timeouts.connectMs),
    });
  }

  override async handle(...[request, options = {}]: Parameters<NodeHttpHandler['handle']>) {
    const { answerMs } = this.bounds.timeouts;
    const limitBytes = this.bounds.maxAnswerBytes;
    const deadline = new AbortController();
    const callerSignal = options.abortSignal as AbortSignal | undefined;
    const onCallerAbort = () => deadline.abort();
    callerSignal?.addEventListener?.('abort', onCallerAbort, { once: true });
    const timeout = () => new EndpointGuardError({ reason: 'timeout', phase: 'answer', ms: answerMs });
    let timedOut = false;
    let body: Transform | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      body?.destroy(timeout());
      deadline.abort();
    }, answerMs);
    const done = () => {
      clearTimeout(timer);
      callerSignal?.removeEventListener?.('abort', onCallerAbort);
    };

    let answer: Awaited<ReturnType<NodeHttpHandler['handle']>>;
    try {
      answer = await super.handle(request, { ...options, abortSignal: deadline.signal });
    } catch (error) {
      done();
      throw timedOut ? timeout() : error;
    }
    const { response } = answer;
    const source = response.body as Readable;
    if (Number(response.headers['content-length'] ?? 0) > limitBytes) {
      done();
      source.destroy();
      throw new EndpointGuardError({ reason: 'too_large', limitBytes });
    }
    let seen = 0;
    body = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        seen += chunk.length;
        if (seen > limitBytes) callback(new EndpointGuardError({ reason: 'too_large', limitBytes }));
        else callback(null, chunk);
      },
    });
    const counted = body;
    source.on('error', (error) => counted.destroy(error));
    counted.on('close', () => {
      done();
      // Cut off mid-answer: drop the connection rather than read the rest.
      if (!source.readableEnded) source.destroy();
    });
    source.pipe(counted);
    response.body = counted;
    return answer;
  }
}
