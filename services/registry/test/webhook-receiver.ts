import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A webhook receiver on loopback that verifies MLflow's signature with its own implementation, written
 * from the spec (docs: `v1,` + base64 HMAC-SHA256 over `<delivery id>.<timestamp>.<raw body>`), not with
 * Mast's signer.
 */
export interface ReceivedDelivery {
  path: string;
  headers: IncomingHttpHeaders;
  raw: string;
  body: any;
  /** undefined: no secret configured for the path; true/false: the signature checked out or not. */
  signatureValid?: boolean;
  at: number;
}

export type Responder = (delivery: ReceivedDelivery) => { status: number; body?: string } | 'hang';

export function verifyMlflowSignature(secret: string, headers: IncomingHttpHeaders, raw: string): boolean {
  const signature = headers['x-mlflow-signature'];
  const id = headers['x-mlflow-delivery-id'];
  const timestamp = headers['x-mlflow-timestamp'];
  if (typeof signature !== 'string' || typeof id !== 'string' || typeof timestamp !== 'string') return false;
  if (!signature.startsWith('v1,')) return false;
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > 300) return false;
  const expected = createHmac('sha256', secret).update(`${id}.${timestamp}.${raw}`, 'utf8').digest();
  const given = Buffer.from(signature.slice(3), 'base64');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export class WebhookReceiver {
  readonly received: ReceivedDelivery[] = [];
  /** Secret per path, to verify signatures. */
  readonly secrets = new Map<string, string>();
  /** Answer per path (default 200 "ok"). */
  readonly responders = new Map<string, Responder>();
  private server?: Server;
  private readonly hanging = new Set<() => void>();
  url = '';

  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const path = request.url ?? '/';
        let body: unknown;
        try {
          body = JSON.parse(raw);
        } catch {
          body = raw;
        }
        const secret = this.secrets.get(path);
        const delivery: ReceivedDelivery = {
          path,
          headers: request.headers,
          raw,
          body,
          signatureValid:
            secret === undefined ? undefined : verifyMlflowSignature(secret, request.headers, raw),
          at: Date.now(),
        };
        this.received.push(delivery);
        const answer = this.responders.get(path)?.(delivery) ?? { status: 200, body: 'ok' };
        if (answer === 'hang') {
          const release = () => response.destroy();
          this.hanging.add(release);
          return;
        }
        response.writeHead(answer.status, { 'content-type': 'text/plain' });
        response.end(answer.body ?? '');
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  at(path: string): ReceivedDelivery[] {
    return this.received.filter((delivery) => delivery.path === path);
  }

  async stop(): Promise<void> {
    for (const release of this.hanging) release();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}
