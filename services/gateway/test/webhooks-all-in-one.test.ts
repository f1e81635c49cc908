/**
 * Webhooks wired from the registry's descriptor in `mast server` (all-in-one, in-process queue without
 * REDIS_URL): the consumer of `registry-events` and the delivery worker run with the process, a change
 * reaches a loopback receiver signed, and shutdown closes them.
 */
import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { waitFor } from '@mast/test-support';
import { useAllInOne } from './harness.js';

const SECRET = 'all-in-one-secret';

describe('webhooks in mast server (all-in-one, in-process queue)', () => {
  const mast = useAllInOne({
    name: 'mast-webhooks-all-in-one-',
    env: {
      MAST_WEBHOOKS_ALLOW_PRIVATE_NETWORKS: 'true',
      MAST_WEBHOOKS_SECRET_KEY: Buffer.alloc(32, 3).toString('base64'),
    },
  });
  const received: Array<{ headers: IncomingHttpHeaders; raw: string }> = [];
  const receiver = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ headers: request.headers, raw: Buffer.concat(chunks).toString('utf8') });
      response.end('ok');
    });
  });
  let receiverUrl = '';

  beforeAll(async () => {
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  });
  afterAll(async () => {
    receiver.closeAllConnections();
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
  });

  test('a registered model reaches the receiver, signed as MLflow signs', async () => {
    const created = await mast.http.post('/api/2.0/mlflow/webhooks', {
      name: 'all-in-one',
      url: receiverUrl,
      secret: SECRET,
      events: [{ entity: 'REGISTERED_MODEL', action: 'CREATED' }],
    });
    expect(created.status).toBe(200);
    expect(created.text).not.toContain(SECRET);
    expect(
      (await mast.http.post('/api/2.0/mlflow/registered-models/create', { name: 'aio-model' })).status,
    ).toBe(200);
    await waitFor(() => received.length >= 1, 'delivery');
    const [{ headers, raw }] = received;
    const expected = createHmac('sha256', SECRET)
      .update(`${headers['x-mlflow-delivery-id']}.${headers['x-mlflow-timestamp']}.${raw}`)
      .digest('base64');
    expect(headers['x-mlflow-signature']).toBe(`v1,${expected}`);
    expect(JSON.parse(raw)).toMatchObject({
      entity: 'registered_model',
      action: 'created',
      data: { name: 'aio-model', tags: {}, description: null },
    });
    const log = await mast.http.get('/api/2.0/mast/webhooks/deliveries', {
      webhook_id: created.body.webhook.webhook_id,
    });
    expect(log.body.deliveries[0]).toMatchObject({
      state: 'SUCCEEDED',
      attempts: [{ attempt: 1, response_status: 200 }],
    });
  });
});
