import { createHmac } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { ConfigError, loadConfig, MlflowError } from '@mast/common';
import type { MastEvent } from '@mast/proto';
import { webhooksConfig } from './config.js';
import {
  deliveryBody,
  eventKey,
  examplePayload,
  notificationFor,
  parseEventKey,
  payloadTimestamp,
  validateEvent,
  validateEvents,
} from './events.js';
import { isPublicAddress, validateWebhookUrl } from './network.js';
import { parseSecretKey, SecretBox } from './secrets.js';
import { deliveryHeaders, signDelivery } from './signing.js';

function event<K extends MastEvent['type']>(
  type: K,
  payload: Extract<MastEvent, { type: K }>['payload'],
): MastEvent {
  return {
    event_id: '11111111-1111-4111-8111-111111111111',
    type,
    occurred_at: 0,
    source: 'registry',
    payload,
  } as MastEvent;
}

describe('webhook events', () => {
  it('accepts MLflow’s entity/action pairs and Mast’s stage transition', () => {
    expect(validateEvent('MODEL_VERSION', 'CREATED')).toEqual({ entity: 'MODEL_VERSION', action: 'CREATED' });
    expect(validateEvent('PROMPT_ALIAS', 'DELETED')).toEqual({ entity: 'PROMPT_ALIAS', action: 'DELETED' });
    expect(eventKey(validateEvent('MODEL_VERSION_STAGE', 'TRANSITIONED'))).toBe(
      'model_version_stage.transitioned',
    );
    expect(parseEventKey('model_version_tag.set')).toEqual({ entity: 'MODEL_VERSION_TAG', action: 'SET' });
  });

  it('refuses other pairs with MLflow’s message', () => {
    expect(() => validateEvent('REGISTERED_MODEL', 'DELETED')).toThrow(
      "Invalid action 'deleted' for entity 'registered_model'. Valid actions are: ['created']",
    );
    expect(() => validateEvent('MODEL_VERSION_TAG', 'CREATED')).toThrow(
      "Invalid action 'created' for entity 'model_version_tag'. Valid actions are: ['deleted', 'set']",
    );
    expect(() => validateEvent('NOPE', 'CREATED')).toThrow(MlflowError);
    expect(() => validateEvents([])).toThrow('Webhook events cannot be empty');
    expect(
      validateEvents([
        { entity: 'MODEL_VERSION', action: 'CREATED' },
        { entity: 'MODEL_VERSION', action: 'CREATED' },
      ]),
    ).toHaveLength(1);
  });

  it('maps registry events to MLflow’s events and payloads', () => {
    expect(
      notificationFor(
        event('MODEL_VERSION_CREATED', {
          name: 'm',
          version: '3',
          source: 'runs:/r/model',
          run_id: 'r',
          tags: [{ key: 'k', value: 'v' }],
        }),
      ),
    ).toEqual({
      event: { entity: 'MODEL_VERSION', action: 'CREATED' },
      model: 'm',
      data: {
        name: 'm',
        version: '3',
        source: 'runs:/r/model',
        run_id: 'r',
        tags: { k: 'v' },
        description: null,
      },
    });
    expect(notificationFor(event('REGISTERED_MODEL_CREATED', { name: 'p', is_prompt: true }))?.event).toEqual(
      {
        entity: 'PROMPT',
        action: 'CREATED',
      },
    );
    expect(
      notificationFor(
        event('MODEL_VERSION_CREATED', {
          name: 'p',
          version: '1',
          tags: [{ key: 'mlflow.prompt.text', value: 'Hi {{x}}' }],
          is_prompt: true,
        }),
      )?.data,
    ).toMatchObject({ name: 'p', version: '1', template: 'Hi {{x}}' });
    expect(notificationFor(event('MODEL_ALIAS_SET', { name: 'm', alias: 'champion', version: '2' }))).toEqual(
      {
        event: { entity: 'MODEL_VERSION_ALIAS', action: 'CREATED' },
        model: 'm',
        data: { name: 'm', alias: 'champion', version: '2' },
      },
    );
    expect(
      notificationFor(
        event('MODEL_VERSION_STAGE_TRANSITIONED', {
          name: 'm',
          version: '2',
          from_stage: 'None',
          to_stage: 'Staging',
        }),
      ),
    ).toEqual({
      event: { entity: 'MODEL_VERSION_STAGE', action: 'TRANSITIONED' },
      model: 'm',
      data: { name: 'm', version: '2', from: 'None', to: 'Staging' },
    });
    // MLflow fires nothing for these.
    expect(notificationFor(event('REGISTERED_MODEL_DELETED', { name: 'm' }))).toBeUndefined();
    expect(
      notificationFor(event('REGISTERED_MODEL_TAG_SET', { name: 'm', key: 'k', value: 'v' })),
    ).toBeUndefined();
    expect(
      notificationFor(event('REGISTERED_MODEL_TAG_SET', { name: 'p', key: 'k', value: 'v', is_prompt: true }))
        ?.event,
    ).toEqual({ entity: 'PROMPT_TAG', action: 'SET' });
  });

  it('builds MLflow’s envelope with a Python-style UTC timestamp', () => {
    expect(payloadTimestamp(Date.UTC(2025, 6, 31, 8, 27, 32, 80))).toBe('2025-07-31T08:27:32.080000+00:00');
    const body = JSON.parse(
      deliveryBody(
        { entity: 'MODEL_VERSION', action: 'CREATED' },
        examplePayload({ entity: 'MODEL_VERSION', action: 'CREATED' }),
        0,
      ),
    );
    expect(body).toEqual({
      entity: 'model_version',
      action: 'created',
      timestamp: '1970-01-01T00:00:00.000000+00:00',
      data: {
        name: 'example_model',
        version: '1',
        source: 'models:/123',
        run_id: 'abcd1234abcd5678',
        tags: { example_key: 'example_value' },
        description: 'An example model version',
      },
    });
  });
});

describe('signatures', () => {
  it('are v1,base64(HMAC-SHA256(secret, "<id>.<timestamp>.<body>"))', () => {
    const expected = createHmac('sha256', 'whsec').update('d-1.1700000000.{"a":1}').digest('base64');
    expect(signDelivery('whsec', 'd-1', '1700000000', '{"a":1}')).toBe(`v1,${expected}`);
    expect(deliveryHeaders('d-1', '1700000000', '{}', undefined)).toEqual({
      'Content-Type': 'application/json',
      'X-MLflow-Delivery-Id': 'd-1',
      'X-MLflow-Timestamp': '1700000000',
    });
    expect(deliveryHeaders('d-1', '1', '{}', 's')['X-MLflow-Signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
  });
});

describe('secret encryption', () => {
  const key = Buffer.alloc(32, 7);

  it('round-trips with AES-256-GCM and never stores the plain text', () => {
    const box = new SecretBox(key);
    const stored = box.encrypt('my-secret');
    expect(stored).not.toContain('my-secret');
    expect(stored).not.toBe(box.encrypt('my-secret'));
    expect(box.decrypt(stored)).toBe('my-secret');
    expect(() => new SecretBox(Buffer.alloc(32, 8)).decrypt(stored)).toThrow(/differs/);
  });

  it('refuses to store a secret without a key', () => {
    expect(() => new SecretBox(undefined).encrypt('s')).toThrow(/MAST_WEBHOOKS_SECRET_KEY/);
  });

  it('reads hex and base64 keys and rejects anything else', () => {
    expect(parseSecretKey('00'.repeat(32))).toEqual(Buffer.alloc(32));
    expect(parseSecretKey(Buffer.alloc(32, 1).toString('base64'))).toEqual(Buffer.alloc(32, 1));
    expect(typeof parseSecretKey('short')).toBe('string');
    expect(parseSecretKey(undefined)).toBeUndefined();
  });
});

describe('webhook targets', () => {
  it('accepts only http(s) URLs (MLflow’s checks on create and update)', () => {
    expect(validateWebhookUrl('https://example.com/hook')).toBe('https://example.com/hook');
    expect(() => validateWebhookUrl('ftp://example.com')).toThrow(
      "Invalid webhook URL scheme: 'ftp'. Only 'http' and 'https' are supported.",
    );
    expect(() => validateWebhookUrl('file:///etc/passwd')).toThrow(/scheme: 'file'/);
    expect(() => validateWebhookUrl('not a url')).toThrow(/Invalid webhook URL/);
    expect(() => validateWebhookUrl('')).toThrow('Webhook URL cannot be empty');
  });

  it.each([
    ['127.0.0.1', false],
    ['10.1.2.3', false],
    ['172.16.0.1', false],
    ['172.32.0.1', true],
    ['192.168.1.1', false],
    ['169.254.169.254', false],
    ['100.64.0.1', false],
    ['0.0.0.0', false],
    ['224.0.0.1', false],
    ['8.8.8.8', true],
    ['::1', false],
    ['::', false],
    ['fe80::1', false],
    ['fd00::1', false],
    ['ff02::1', false],
    ['::ffff:127.0.0.1', false],
    ['::ffff:7f00:1', false],
    ['::ffff:169.254.169.254', false],
    ['::ffff:8.8.8.8', true],
    ['64:ff9b::10.0.0.1', false],
    ['2002:c0a8:0101::1', false],
    ['2001:db8::1', false],
    ['2606:4700:4700::1111', true],
    ['example.com', false],
  ])('%s is public: %s', (address, expected) => {
    expect(isPublicAddress(address)).toBe(expected);
  });
});

describe('webhooks configuration', () => {
  it('defaults: private networks refused, 30 s timeout, 64 KiB responses, 4 tries', () => {
    expect(loadConfig({}, [webhooksConfig]).webhooks).toEqual({
      secretKey: undefined,
      allowPrivateNetworks: false,
      timeoutMs: 30_000,
      maxResponseBytes: 65_536,
      maxAttempts: 4,
      retryDelayMs: 1000,
      concurrency: 4,
    });
  });

  it('reads every variable and names a bad one', () => {
    const config = loadConfig(
      {
        MAST_WEBHOOKS_SECRET_KEY: 'ab'.repeat(32),
        MAST_WEBHOOKS_ALLOW_PRIVATE_NETWORKS: 'true',
        MAST_WEBHOOKS_TIMEOUT: '5',
        MAST_WEBHOOKS_MAX_RESPONSE_BYTES: '100',
        MAST_WEBHOOKS_MAX_ATTEMPTS: '2',
        MAST_WEBHOOKS_RETRY_DELAY_MS: '0',
        MAST_WEBHOOKS_CONCURRENCY: '8',
      },
      [webhooksConfig],
    ).webhooks;
    expect(config).toMatchObject({
      allowPrivateNetworks: true,
      timeoutMs: 5000,
      maxResponseBytes: 100,
      maxAttempts: 2,
    });
    expect(config.secretKey).toEqual(Buffer.alloc(32, 0xab));
    expect(() => loadConfig({ MAST_WEBHOOKS_SECRET_KEY: 'too-short' }, [webhooksConfig])).toThrow(
      ConfigError,
    );
    expect(() => loadConfig({ MAST_WEBHOOKS_SECRET_KEY: 'too-short' }, [webhooksConfig])).toThrow(
      /MAST_WEBHOOKS_SECRET_KEY: expected a 32-byte key/,
    );
    expect(() => loadConfig({ MAST_WEBHOOKS_ALLOW_PRIVATE_NETWORKS: 'maybe' }, [webhooksConfig])).toThrow(
      /MAST_WEBHOOKS_ALLOW_PRIVATE_NETWORKS/,
    );
  });
});
