import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { MlflowError } from '@mast/common';

/**
 * Checks a webhook URL as MLflow's `_validate_webhook_url` does on create and update: non-empty, http or
 * https, with a host. Where the URL points is checked at connect time (see `guardedLookup`), not here: a
 * name that resolves to a public address today may resolve to a private one tomorrow.
 */
export function validateWebhookUrl(url: string): string {
  if (url.trim() === '') throw MlflowError.invalidParameter('Webhook URL cannot be empty');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw MlflowError.invalidParameter(`Invalid webhook URL: '${url}'`);
  }
  const scheme = parsed.protocol.replace(/:$/, '');
  if (scheme !== 'http' && scheme !== 'https') {
    throw MlflowError.invalidParameter(
      `Invalid webhook URL scheme: '${scheme}'. Only 'http' and 'https' are supported.`,
    );
  }
  if (parsed.hostname === '') throw MlflowError.invalidParameter(`Invalid webhook URL: '${url}'`);
  return url;
}

function ipv4Bytes(address: string): number[] {
  return address.split('.').map(Number);
}

/** Whether an IPv4 address is globally routable (not loopback, private, link-local, CGNAT, reserved, ...). */
function isPublicIpv4(address: string): boolean {
  const [a, b, c] = ipv4Bytes(address);
  if (a === 0 || a === 10 || a === 127) return false; // this network, private, loopback
  if (a === 100 && b >= 64 && b <= 127) return false; // shared address space (CGNAT)
  if (a === 169 && b === 254) return false; // link-local (cloud metadata)
  if (a === 172 && b >= 16 && b <= 31) return false; // private
  if (a === 192 && b === 168) return false; // private
  if (a === 192 && b === 0 && (c === 0 || c === 2)) return false; // IETF protocol assignments, TEST-NET-1
  if (a === 198 && (b === 18 || b === 19)) return false; // benchmarking
  if (a === 198 && b === 51 && c === 100) return false; // TEST-NET-2
  if (a === 203 && b === 0 && c === 113) return false; // TEST-NET-3
  if (a >= 224) return false; // multicast, reserved, broadcast
  return true;
}

/** The eight 16-bit groups of an IPv6 address (embedded dotted IPv4 and `::` expanded). */
function ipv6Groups(address: string): number[] {
  let text = address.split('%')[0].toLowerCase();
  const dotted = text.match(/(\d+\.\d+\.\d+\.\d+)$/);
  if (dotted) {
    const [a, b, c, d] = ipv4Bytes(dotted[1]);
    text = `${text.slice(0, -dotted[1].length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const middle = tail === undefined ? [] : Array(8 - left.length - right.length).fill('0');
  return [...left, ...middle, ...right].map((group) => Number.parseInt(group || '0', 16));
}

function embeddedIpv4(groups: number[]): string {
  return [groups[6] >> 8, groups[6] & 255, groups[7] >> 8, groups[7] & 255].join('.');
}

/** Whether an IPv6 address is globally routable; IPv4-mapped, -compatible and NAT64 ones by their IPv4. */
function isPublicIpv6(address: string): boolean {
  const g = ipv6Groups(address);
  const firstFiveZero = g.slice(0, 5).every((x) => x === 0);
  if (firstFiveZero && g[5] === 0xffff) return isPublicIpv4(embeddedIpv4(g)); // ::ffff:a.b.c.d
  if (firstFiveZero && g[5] === 0) {
    // ::, ::1 and the deprecated IPv4-compatible ::a.b.c.d
    if (g[6] === 0 && g[7] <= 1) return false;
    return isPublicIpv4(embeddedIpv4(g));
  }
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0)) {
    return isPublicIpv4(embeddedIpv4(g)); // NAT64 64:ff9b::/96
  }
  if (g[0] === 0x2002) return isPublicIpv4([g[1] >> 8, g[1] & 255, g[2] >> 8, g[2] & 255].join('.')); // 6to4
  if ((g[0] & 0xfe00) === 0xfc00) return false; // unique local fc00::/7
  if ((g[0] & 0xffc0) === 0xfe80) return false; // link-local fe80::/10
  if ((g[0] & 0xffc0) === 0xfec0) return false; // site-local (deprecated) fec0::/10
  if ((g[0] & 0xff00) === 0xff00) return false; // multicast
  if (g[0] === 0x2001 && g[1] === 0x0db8) return false; // documentation
  if (g[0] === 0x0100 && g.slice(1, 4).every((x) => x === 0)) return false; // discard-only 100::/64
  return true;
}

/** Whether a literal IP address may be the target of a delivery when private networks are not allowed. */
export function isPublicAddress(address: string): boolean {
  const family = isIP(address.split('%')[0]);
  if (family === 4) return isPublicIpv4(address);
  if (family === 6) return isPublicIpv6(address);
  return false;
}

/** A delivery refused because its target is not a public address: never retried. */
export class PrivateAddressError extends Error {
  override name = 'PrivateAddressError';
  readonly code = 'EWEBHOOKPRIVATEADDRESS';
}

function refused(host: string, address: string): PrivateAddressError {
  return new PrivateAddressError(
    `Webhook connection blocked: ${address}${address === host ? '' : ` (${host})`} is not a public IP address`,
  );
}

/**
 * The `lookup` the delivery's socket connects through: it resolves the name itself and hands the socket
 * only public addresses, so the address checked is the address connected to (a DNS answer that changes
 * between a check and the connect, DNS rebinding, has nothing to exploit). Refuses when none is public.
 */
export const guardedLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
    if (error) {
      (callback as (e: Error) => void)(error);
      return;
    }
    const allowed = addresses.filter((entry) => isPublicAddress(entry.address));
    if (allowed.length === 0) {
      (callback as (e: Error) => void)(refused(hostname, addresses[0]?.address ?? hostname));
      return;
    }
    if (options.all) (callback as (e: null, a: LookupAddress[]) => void)(null, allowed);
    else (callback as (e: null, a: string, f: number) => void)(null, allowed[0].address, allowed[0].family);
  });
};

export interface PostOptions {
  headers: Record<string, string>;
  /** Milliseconds for the whole exchange (connect, send, response headers and body). */
  timeoutMs: number;
  /** Response bytes kept; the rest is discarded and the connection closed. */
  maxResponseBytes: number;
  /** Connect to loopback and private addresses too (`MAST_WEBHOOKS_ALLOW_PRIVATE_NETWORKS`). */
  allowPrivateNetworks: boolean;
}

export interface PostResult {
  status: number;
  /** The response body (UTF-8, at most `maxResponseBytes`). */
  body: string;
  headers: IncomingMessage['headers'];
}

/** A delivery attempt that got no HTTP answer in time. */
export class DeliveryTimeoutError extends Error {
  override name = 'DeliveryTimeoutError';
}

/**
 * POSTs `body` to `url` and resolves with the status and the (capped) response body; rejects on a
 * connection error, a timeout (`DeliveryTimeoutError`) or a refused private address
 * (`PrivateAddressError`). Redirects are not followed (a 3xx is the answer).
 */
export function postJson(url: string, body: string, options: PostOptions): Promise<PostResult> {
  return new Promise((resolve, reject) => {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      reject(new Error(`Invalid webhook URL: '${url}'`));
      return;
    }
    const host = target.hostname.replace(/^\[|\]$/g, '');
    // A literal IP never goes through `lookup`: check it here.
    if (!options.allowPrivateNetworks && isIP(host) !== 0 && !isPublicAddress(host)) {
      reject(refused(host, host));
      return;
    }
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const payload = Buffer.from(body, 'utf8');
    let settled = false;
    const finish = (error: Error | undefined, result?: PostResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) reject(error);
      else resolve(result as PostResult);
    };
    const req = send(
      target,
      {
        method: 'POST',
        headers: {
          ...options.headers,
          'Content-Length': String(payload.length),
          'User-Agent': 'mast-webhooks',
        },
        lookup: options.allowPrivateNetworks ? undefined : guardedLookup,
        agent: false,
      },
      (response) => {
        const chunks: Buffer[] = [];
        let kept = 0;
        response.on('data', (chunk: Buffer) => {
          if (kept >= options.maxResponseBytes) return;
          const slice = chunk.subarray(0, options.maxResponseBytes - kept);
          chunks.push(slice);
          kept += slice.length;
          if (kept >= options.maxResponseBytes) {
            // Enough: the rest of an oversized answer is not read.
            finish(undefined, {
              status: response.statusCode ?? 0,
              body: Buffer.concat(chunks).toString('utf8'),
              headers: response.headers,
            });
            response.destroy();
          }
        });
        response.on('end', () =>
          finish(undefined, {
            status: response.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
            headers: response.headers,
          }),
        );
        response.on('error', (error) => finish(error));
        response.on('aborted', () => finish(new Error('response aborted')));
      },
    );
    const timer = setTimeout(() => {
      finish(new DeliveryTimeoutError(`Webhook request timed out after ${options.timeoutMs} ms`));
      req.destroy();
    }, options.timeoutMs);
    req.on('error', (error) => finish(error));
    req.end(payload);
  });
}
