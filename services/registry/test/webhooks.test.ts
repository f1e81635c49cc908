/**
 * MLflow 3's webhook API over HTTP on both backends, with real receivers on loopback: CRUD and test
 * endpoints with MLflow's errors, signed deliveries verified by the receiver's own HMAC code, retries
 * with every attempt recorded, no retry on 400, timeouts that never slow a registry write, private
 * addresses refused at connect time, secrets never returned.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { BACKENDS, waitFor } from '@mast/test-support';
import { sql } from 'kysely';
import { API, createModel, createVersion, del, expectError, patch, uniqueName } from './fixtures.js';
import { WebhookReceiver } from './webhook-receiver.js';
import { startWebhooksServer, type WebhooksServer } from './webhooks-harness.js';

const HOOKS = `${API}/webhooks`;
const DELIVERIES = '/api/2.0/mast/webhooks/deliveries';
const SECRET = 'whsec-do-not-leak-4f1c';
const DOCS = ' See the API docs for more information about request parameters.';

function ev(entity: string, action: string) {
  return { entity, action };
}

describe.each(BACKENDS)('webhooks on %s', (backend) => {
  let server: WebhooksServer;
  const receiver = new WebhookReceiver();

  beforeAll(async () => {
    await receiver.start();
    server = await startWebhooksServer(backend);
  });
  afterAll(async () => {
    await server?.close();
    await receiver.stop();
  });

  async function createHook(body: Record<string, unknown>) {
    const response = await server.client.post(HOOKS, body);
    expect(response.status).toBe(200);
    expect(response.text).not.toContain(SECRET);
    return response.body.webhook;
  }

  async function deliveriesOf(webhookId: string) {
    const response = await server.client.get(DELIVERIES, { webhook_id: webhookId });
    expect(response.status).toBe(200);
    expect(response.text).not.toContain(SECRET);
    return response.body.deliveries ?? [];
  }

  it('create, get, list, update, delete; the secret is never returned nor stored in clear', async () => {
    const created = await createHook({
      name: 'ci',
      url: `${receiver.url}/crud`,
      events: [ev('MODEL_VERSION', 'CREATED'), ev('MODEL_VERSION_ALIAS', 'CREATED')],
      description: 'deploy on new versions',
      secret: SECRET,
    });
    expect(created).toEqual({
      webhook_id: expect.stringMatching(/^[0-9a-f]{32}$/),
      name: 'ci',
      description: 'deploy on new versions',
      url: `${receiver.url}/crud`,
      events: [ev('MODEL_VERSION', 'CREATED'), ev('MODEL_VERSION_ALIAS', 'CREATED')],
      status: 'ACTIVE',
      creation_timestamp: expect.any(Number),
      last_updated_timestamp: created.creation_timestamp,
    });
    const id = created.webhook_id;

    const got = await server.client.get(`${HOOKS}/${id}`);
    expect(got.body).toEqual({ webhook: created });
    expect(got.text).not.toContain(SECRET);

    const stored = await sql<{
      secret_encrypted: string;
    }>`select secret_encrypted from registry.webhooks where webhook_id = ${id}`.execute(server.database.db);
    expect(stored.rows[0].secret_encrypted).toMatch(/^v1\./);
    expect(stored.rows[0].secret_encrypted).not.toContain(SECRET);

    const second = await createHook({
      name: 'two',
      url: `${receiver.url}/two`,
      events: [ev('REGISTERED_MODEL', 'CREATED')],
    });
    const page1 = await server.client.get(HOOKS, { max_results: 1 });
    expect(page1.status).toBe(200);
    expect(page1.body.webhooks).toHaveLength(1);
    expect(page1.body.next_page_token).toEqual(expect.any(String));
    const page2 = await server.client.get(HOOKS, { max_results: 1, page_token: page1.body.next_page_token });
    expect(
      [...page1.body.webhooks, ...page2.body.webhooks].map((w: { webhook_id: string }) => w.webhook_id),
    ).toEqual(expect.arrayContaining([id, second.webhook_id]));
    expect(page1.text + page2.text).not.toContain(SECRET);

    const updated = await patch(server.client, `${HOOKS}/${id}`, {
      name: 'ci-renamed',
      status: 'DISABLED',
      events: [ev('MODEL_VERSION_TAG', 'SET')],
      secret: `${SECRET}-2`,
    });
    expect(updated.status).toBe(200);
    expect(updated.text).not.toContain(SECRET);
    expect(updated.body.webhook).toMatchObject({
      webhook_id: id,
      name: 'ci-renamed',
      description: 'deploy on new versions',
      url: `${receiver.url}/crud`,
      status: 'DISABLED',
      events: [ev('MODEL_VERSION_TAG', 'SET')],
    });
    expect(updated.body.webhook.last_updated_timestamp).toBeGreaterThanOrEqual(created.creation_timestamp);

    expect((await del(server.client, `${HOOKS}/${id}`, {})).body).toEqual({});
    await del(server.client, `${HOOKS}/${second.webhook_id}`, {});
    expectError(
      await server.client.get(`${HOOKS}/${id}`),
      404,
      'RESOURCE_DOES_NOT_EXIST',
      `Webhook with ID ${id} not found`,
    );
    expectError(await del(server.client, `${HOOKS}/${id}`, {}), 404, 'RESOURCE_DOES_NOT_EXIST');
    expectError(await patch(server.client, `${HOOKS}/${id}`, { name: 'x' }), 404, 'RESOURCE_DOES_NOT_EXIST');
    expectError(await server.client.post(`${HOOKS}/${id}/test`, {}), 404, 'RESOURCE_DOES_NOT_EXIST');
  });

  it('refuses bad input with MLflow’s errors, writing nothing', async () => {
    const url = `${receiver.url}/bad`;
    const events = [ev('MODEL_VERSION', 'CREATED')];
    expectError(
      await server.client.post(HOOKS, { url, events }),
      400,
      'INVALID_PARAMETER_VALUE',
      `Missing value for required parameter 'name'.${DOCS}`,
    );
    expectError(
      await server.client.post(HOOKS, { name: 'n', events }),
      400,
      'INVALID_PARAMETER_VALUE',
      `Missing value for required parameter 'url'.${DOCS}`,
    );
    expectError(
      await server.client.post(HOOKS, { name: 'n', url }),
      400,
      'INVALID_PARAMETER_VALUE',
      `Missing value for required parameter 'events'.${DOCS}`,
    );
    expectError(
      await server.client.post(HOOKS, { name: 'n', url, events: [] }),
      400,
      'INVALID_PARAMETER_VALUE',
      'Webhook events cannot be empty',
    );
    expectError(
      await server.client.post(HOOKS, { name: 'n', url: 'ftp://example.com/x', events }),
      400,
      'INVALID_PARAMETER_VALUE',
      "Invalid webhook URL scheme: 'ftp'. Only 'http' and 'https' are supported.",
    );
    expectError(
      await server.client.post(HOOKS, { name: 'n', url, events: [ev('REGISTERED_MODEL', 'DELETED')] }),
      400,
      'INVALID_PARAMETER_VALUE',
      "Invalid action 'deleted' for entity 'registered_model'. Valid actions are: ['created']",
    );
    expectError(
      await server.client.post(HOOKS, { name: 'n', url, events, status: 'PAUSED' }),
      400,
      'INVALID_PARAMETER_VALUE',
    );
    expectError(await server.client.get(HOOKS, { max_results: 0 }), 400, 'INVALID_PARAMETER_VALUE');
    expectError(await server.client.get(HOOKS, { page_token: 'garbage' }), 400, 'INVALID_PARAMETER_VALUE');
    const hook = await createHook({ name: 'ok', url, events });
    expectError(
      await patch(server.client, `${HOOKS}/${hook.webhook_id}`, { url: 'javascript:alert(1)' }),
      400,
      'INVALID_PARAMETER_VALUE',
    );
    expect((await server.client.get(`${HOOKS}/${hook.webhook_id}`)).body.webhook.url).toBe(url);
    await del(server.client, `${HOOKS}/${hook.webhook_id}`, {});
    const listed = await server.client.get(HOOKS);
    expect(listed.body.webhooks ?? []).toEqual([]);
  });

  it('test endpoint: sends MLflow’s example payload, signed, and reports the answer', async () => {
    receiver.secrets.set('/test-ok', SECRET);
    receiver.responders.set('/test-ok', () => ({ status: 200, body: 'received' }));
    const hook = await createHook({
      name: 't',
      url: `${receiver.url}/test-ok`,
      events: [ev('MODEL_VERSION_ALIAS', 'CREATED'), ev('REGISTERED_MODEL', 'CREATED')],
      secret: SECRET,
    });
    const first = await server.client.post(`${HOOKS}/${hook.webhook_id}/test`, {});
    expect(first.body).toEqual({
      result: { success: true, response_status: 200, response_body: 'received' },
    });
    const other = await server.client.post(`${HOOKS}/${hook.webhook_id}/test`, {
      event: ev('REGISTERED_MODEL', 'CREATED'),
    });
    expect(other.body.result.success).toBe(true);
    const [a, b] = receiver.at('/test-ok');
    expect(a.signatureValid).toBe(true);
    expect(b.signatureValid).toBe(true);
    expect(a.headers['content-type']).toBe('application/json');
    expect(a.headers['x-mlflow-delivery-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(a.body).toEqual({
      entity: 'model_version_alias',
      action: 'created',
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$/),
      data: { name: 'example_model', alias: 'example_alias', version: '1' },
    });
    expect(b.body).toMatchObject({
      entity: 'registered_model',
      action: 'created',
      data: { name: 'example_model' },
    });

    receiver.responders.set('/test-500', () => ({ status: 500, body: 'boom' }));
    const failing = await createHook({
      name: 'f',
      url: `${receiver.url}/test-500`,
      events: [ev('MODEL_VERSION', 'CREATED')],
    });
    const result = await server.client.post(`${HOOKS}/${failing.webhook_id}/test`, {});
    expect(result.body).toEqual({ result: { success: false, response_status: 500, response_body: 'boom' } });
    expect(receiver.at('/test-500')[0].headers['x-mlflow-signature']).toBeUndefined();

    const unreachable = await createHook({
      name: 'u',
      url: 'http://127.0.0.1:1/none',
      events: [ev('MODEL_VERSION', 'CREATED')],
    });
    const refused = await server.client.post(`${HOOKS}/${unreachable.webhook_id}/test`, {});
    expect(refused.body.result).toEqual({
      success: false,
      error_message: expect.stringMatching(/^Failed to test webhook: .*ECONNREFUSED/),
    });
    for (const id of [hook.webhook_id, failing.webhook_id, unreachable.webhook_id])
      await del(server.client, `${HOOKS}/${id}`, {});
  });

  it('delivers registry changes, signed, with MLflow’s payloads and Mast’s stage transitions', async () => {
    const path = '/deliveries';
    receiver.secrets.set(path, SECRET);
    const hook = await createHook({
      name: 'all',
      url: `${receiver.url}${path}`,
      secret: SECRET,
      events: [
        ev('REGISTERED_MODEL', 'CREATED'),
        ev('MODEL_VERSION', 'CREATED'),
        ev('MODEL_VERSION_TAG', 'SET'),
        ev('MODEL_VERSION_ALIAS', 'CREATED'),
        ev('MODEL_VERSION_ALIAS', 'DELETED'),
        ev('MODEL_VERSION_STAGE', 'TRANSITIONED'),
      ],
    });
    const name = uniqueName('hooked');
    await createModel(server.client, name, { tags: [{ key: 'team', value: 'ml' }] });
    await createVersion(server.client, name, { run_id: 'run-1', description: 'first' });
    expect(
      (
        await server.client.post(`${API}/model-versions/set-tag`, {
          name,
          version: '1',
          key: 'k',
          value: 'v',
        })
      ).status,
    ).toBe(200);
    expect(
      (await server.client.post(`${API}/registered-models/alias`, { name, alias: 'champion', version: '1' }))
        .status,
    ).toBe(200);
    expect(
      (
        await server.client.post(`${API}/model-versions/transition-stage`, {
          name,
          version: '1',
          stage: 'Staging',
          archive_existing_versions: false,
        })
      ).status,
    ).toBe(200);
    expect(
      (await del(server.client, `${API}/registered-models/alias`, { name, alias: 'champion' })).status,
    ).toBe(200);
    await waitFor(() => receiver.at(path).length >= 6, 'six deliveries');
    const got = receiver.at(path);
    expect(got.every((d) => d.signatureValid === true)).toBe(true);
    // Order is only guaranteed with MAST_WEBHOOKS_CONCURRENCY=1 (the reliability suite checks it): by event.
    const byEvent = Object.fromEntries(got.map((d) => [`${d.body.entity}.${d.body.action}`, d.body.data]));
    expect(byEvent).toEqual({
      'registered_model.created': { name, tags: { team: 'ml' }, description: null },
      'model_version.created': {
        name,
        version: '1',
        source: 'mlflow-artifacts:/1/abc/artifacts/model',
        run_id: 'run-1',
        tags: {},
        description: 'first',
      },
      'model_version_tag.set': { name, version: '1', key: 'k', value: 'v' },
      'model_version_alias.created': { name, alias: 'champion', version: '1' },
      'model_version_stage.transitioned': { name, version: '1', from: 'None', to: 'Staging' },
      'model_version_alias.deleted': { name, alias: 'champion' },
    });

    // The receiver answers before the worker records the outcome: wait for the log to catch up.
    const log = await waitFor(async () => {
      const deliveries = await deliveriesOf(hook.webhook_id);
      return deliveries.every((d: { state: string }) => d.state === 'SUCCEEDED') && deliveries;
    }, 'six recorded deliveries');
    expect(log).toHaveLength(6);
    for (const delivery of log) {
      expect(delivery).toMatchObject({ webhook_id: hook.webhook_id, state: 'SUCCEEDED' });
      expect(delivery.attempts).toEqual([
        { attempt: 1, timestamp: expect.any(Number), response_status: 200, latency_ms: expect.any(Number) },
      ]);
    }
    expect(new Set(got.map((d) => d.headers['x-mlflow-delivery-id']))).toEqual(
      new Set(log.map((d: { delivery_id: string }) => d.delivery_id)),
    );
    await del(server.client, `${HOOKS}/${hook.webhook_id}`, {});
  });

  it('retries 5xx with backoff until success, recording every attempt; same delivery id each try', async () => {
    const path = '/flaky';
    receiver.secrets.set(path, SECRET);
    let calls = 0;
    receiver.responders.set(path, () => {
      calls += 1;
      return calls <= 2 ? { status: 503, body: 'busy' } : { status: 200, body: 'ok' };
    });
    const hook = await createHook({
      name: 'flaky',
      url: `${receiver.url}${path}`,
      secret: SECRET,
      events: [ev('REGISTERED_MODEL', 'CREATED')],
    });
    await createModel(server.client, uniqueName('flaky'));
    await waitFor(() => receiver.at(path).length >= 3, 'three tries');
    const tries = receiver.at(path);
    expect(new Set(tries.map((t) => t.headers['x-mlflow-delivery-id'])).size).toBe(1);
    expect(tries.every((t) => t.signatureValid)).toBe(true);
    expect(tries.map((t) => t.raw)).toEqual([tries[0].raw, tries[0].raw, tries[0].raw]);
    // Exponential backoff from 50 ms: ≥ 50 ms, then ≥ 100 ms.
    expect(tries[1].at - tries[0].at).toBeGreaterThanOrEqual(40);
    expect(tries[2].at - tries[1].at).toBeGreaterThanOrEqual(90);
    await waitFor(
      async () => (await deliveriesOf(hook.webhook_id))[0]?.state === 'SUCCEEDED',
      'delivery succeeded',
    );
    // The failed tries were logged, without the secret.
    expect(server.logs.filter((line) => line.includes(hook.webhook_id)).length).toBeGreaterThanOrEqual(2);
    expect(server.logs.join('\n')).not.toContain(SECRET);
    const [delivery] = await deliveriesOf(hook.webhook_id);
    expect(
      delivery.attempts.map((a: { attempt: number; response_status: number; error_message?: string }) => [
        a.attempt,
        a.response_status,
        a.error_message,
      ]),
    ).toEqual([
      [1, 503, 'HTTP 503'],
      [2, 503, 'HTTP 503'],
      [3, 200, undefined],
    ]);
    expect(delivery.delivery_id).toBe(tries[0].headers['x-mlflow-delivery-id']);
    await del(server.client, `${HOOKS}/${hook.webhook_id}`, {});
  });

  it('does not retry a 400; gives up after the last try on 429', async () => {
    receiver.responders.set('/reject', () => ({ status: 400, body: 'no' }));
    receiver.responders.set('/throttled', () => ({ status: 429, body: 'slow down' }));
    const rejecting = await createHook({
      name: 'r',
      url: `${receiver.url}/reject`,
      events: [ev('REGISTERED_MODEL', 'CREATED')],
    });
    const throttled = await createHook({
      name: 'th',
      url: `${receiver.url}/throttled`,
      events: [ev('REGISTERED_MODEL', 'CREATED')],
    });
    await createModel(server.client, uniqueName('reject'));
    await waitFor(
      async () => (await deliveriesOf(rejecting.webhook_id))[0]?.state === 'FAILED',
      '400 delivery failed',
    );
    await waitFor(
      async () => (await deliveriesOf(throttled.webhook_id))[0]?.state === 'FAILED',
      '429 delivery failed',
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(receiver.at('/reject')).toHaveLength(1);
    expect((await deliveriesOf(rejecting.webhook_id))[0].attempts).toHaveLength(1);
    // 4 tries (MAST_WEBHOOKS_MAX_ATTEMPTS default: MLflow's 3 retries).
    expect(receiver.at('/throttled')).toHaveLength(4);
    expect(
      (await deliveriesOf(throttled.webhook_id))[0].attempts.map(
        (a: { response_status: number }) => a.response_status,
      ),
    ).toEqual([429, 429, 429, 429]);
    await del(server.client, `${HOOKS}/${rejecting.webhook_id}`, {});
    await del(server.client, `${HOOKS}/${throttled.webhook_id}`, {});
  });

  it('a receiver that hangs or answers garbage never slows a registry write', async () => {
    receiver.responders.set('/hang', () => 'hang');
    receiver.responders.set('/garbage', () => ({
      status: 200,
      body: '\u0000\u0001not json at all'.repeat(100_000),
    }));
    const hanging = await createHook({
      name: 'h',
      url: `${receiver.url}/hang`,
      events: [ev('REGISTERED_MODEL', 'CREATED')],
    });
    const garbage = await createHook({
      name: 'g',
      url: `${receiver.url}/garbage`,
      events: [ev('REGISTERED_MODEL', 'CREATED')],
    });
    const started = Date.now();
    for (let i = 0; i < 5; i++) await createModel(server.client, uniqueName('fast'));
    // Waiting on the receiver would take ≥ 2 s (its timeout) per write: 10 s for the five.
    expect(Date.now() - started).toBeLessThan(8000);
    await waitFor(() => receiver.at('/hang').length >= 1, 'hanging receiver called');
    await waitFor(
      async () =>
        (await deliveriesOf(garbage.webhook_id)).filter((d: { state: string }) => d.state === 'SUCCEEDED')
          .length === 5,
      'garbage receiver deliveries',
    );
    await del(server.client, `${HOOKS}/${hanging.webhook_id}`, {});
    await del(server.client, `${HOOKS}/${garbage.webhook_id}`, {});
  });

  it('GraphQL: webhooks with their deliveries and attempts, never the secret', async () => {
    receiver.secrets.set('/graphql-hook', SECRET);
    const hook = await createHook({
      name: 'gql',
      url: `${receiver.url}/graphql-hook`,
      secret: SECRET,
      events: [ev('REGISTERED_MODEL', 'CREATED')],
    });
    const name = uniqueName('gql');
    await createModel(server.client, name);
    await waitFor(async () => (await deliveriesOf(hook.webhook_id))[0]?.state === 'SUCCEEDED', 'delivered');
    const response = await server.client.post('/graphql', {
      query: `query($id: ID!) {
        webhook(id: $id) { id name url status events hasSecret creationTimestamp
          deliveries(first: 5) { nodes { id eventId event modelName state attempts { attempt responseStatus latencyMs error } }
            pageInfo { hasNextPage } } }
        webhooks(first: 100) { nodes { id } }
        missing: webhook(id: "nope") { id }
      }`,
      variables: { id: hook.webhook_id },
    });
    expect(response.status).toBe(200);
    expect(response.text).not.toContain(SECRET);
    expect(response.body.errors).toBeUndefined();
    const { webhook, webhooks, missing } = response.body.data;
    expect(missing).toBeNull();
    expect(webhooks.nodes.map((w: { id: string }) => w.id)).toContain(hook.webhook_id);
    expect(webhook).toMatchObject({
      id: hook.webhook_id,
      name: 'gql',
      status: 'ACTIVE',
      events: ['registered_model.created'],
      hasSecret: true,
    });
    expect(webhook.deliveries.nodes).toEqual([
      {
        id: receiver.at('/graphql-hook')[0].headers['x-mlflow-delivery-id'],
        eventId: expect.any(String),
        event: 'registered_model.created',
        modelName: name,
        state: 'SUCCEEDED',
        attempts: [{ attempt: 1, responseStatus: 200, latencyMs: expect.any(Number), error: null }],
      },
    ]);
    await del(server.client, `${HOOKS}/${hook.webhook_id}`, {});
  });

  it('a disabled webhook gets nothing', async () => {
    const hook = await createHook({
      name: 'off',
      url: `${receiver.url}/off`,
      events: [ev('REGISTERED_MODEL', 'CREATED')],
      status: 'DISABLED',
    });
    const sentinel = await createHook({
      name: 'on',
      url: `${receiver.url}/on`,
      events: [ev('REGISTERED_MODEL', 'CREATED')],
    });
    await createModel(server.client, uniqueName('off'));
    await waitFor(() => receiver.at('/on').length >= 1, 'sentinel delivered');
    expect(receiver.at('/off')).toHaveLength(0);
    await del(server.client, `${HOOKS}/${hook.webhook_id}`, {});
    await del(server.client, `${HOOKS}/${sentinel.webhook_id}`, {});
  });
});

describe('webhooks with private networks not allowed (pglite)', () => {
  let server: WebhooksServer;
  const receiver = new WebhookReceiver();

  beforeAll(async () => {
    await receiver.start();
    server = await startWebhooksServer('pglite', {
      settings: { allowPrivateNetworks: false, secretKey: undefined },
    });
  });
  afterAll(async () => {
    await server?.close();
    await receiver.stop();
  });

  it('refuses loopback targets at connect time, by address and by name, and does not retry', async () => {
    const port = new URL(receiver.url).port;
    for (const url of [
      `${receiver.url}/private`,
      `http://localhost:${port}/private`,
      `http://[::ffff:127.0.0.1]:${port}/private`,
    ]) {
      const created = await server.client.post(HOOKS, {
        name: 'p',
        url,
        events: [ev('REGISTERED_MODEL', 'CREATED')],
      });
      expect(created.status).toBe(200);
      const test = await server.client.post(`${HOOKS}/${created.body.webhook.webhook_id}/test`, {});
      expect(test.body.result).toEqual({
        success: false,
        error_message: expect.stringContaining('is not a public IP address'),
      });
    }
    await createModel(server.client, uniqueName('private'));
    const hooks = (await server.client.get(HOOKS)).body.webhooks;
    for (const hook of hooks) {
      await waitFor(async () => {
        const log =
          (await server.client.get(DELIVERIES, { webhook_id: hook.webhook_id })).body.deliveries ?? [];
        return log[0]?.state === 'FAILED';
      }, 'refused delivery');
      const [delivery] = (await server.client.get(DELIVERIES, { webhook_id: hook.webhook_id })).body
        .deliveries;
      expect(delivery.attempts).toEqual([
        {
          attempt: 1,
          timestamp: expect.any(Number),
          latency_ms: expect.any(Number),
          error_message: expect.stringContaining('is not a public IP address'),
        },
      ]);
    }
    expect(receiver.received).toHaveLength(0);
  });

  it('refuses a secret when no MAST_WEBHOOKS_SECRET_KEY is configured', async () => {
    expectError(
      await server.client.post(HOOKS, {
        name: 's',
        url: 'https://example.com/x',
        secret: 'x',
        events: [ev('REGISTERED_MODEL', 'CREATED')],
      }),
      400,
      'INVALID_PARAMETER_VALUE',
      /MAST_WEBHOOKS_SECRET_KEY/,
    );
  });
});
