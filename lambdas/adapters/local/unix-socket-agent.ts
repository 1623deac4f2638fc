import { Agent } from 'node:http';

/**
 * An HTTP agent whose every connection goes to the Unix socket at `path`, whatever
 * the request's host: the local stack's dynalite and s3rver listen only there (a
 * socket in a 0700 folder), so nothing outside the process reaches them over TCP.
 */
export function unixSocketAgent(path: string): Agent {
  // Agent options are passed on to net.connect, where `socketPath` becomes the
  // connection's `path` (and keeps sockets of different paths in different pools).
  return new Agent({ keepAlive: true, socketPath: path } as ConstructorParameters<typeof Agent>[0]);
}
