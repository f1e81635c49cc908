import { createServer } from 'node:net';

/**
 * The host to connect to for a server listening on `host`: `0.0.0.0` and `::` listen everywhere and
 * are reached through loopback; IPv6 literals get brackets (`http://[::1]:5000`).
 */
export function reachableHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

/** A loopback TCP port nobody listens on right now (the OS picks it; another process may take it later). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}
