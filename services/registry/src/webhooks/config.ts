import {
  configFragment,
  nonNegativeInteger,
  optionalBoolean,
  optionalString,
  positiveInteger,
} from '@mast/common';
import { parseSecretKey } from './secrets.js';

/** How webhooks are stored and delivered (README, configuration table). */
export interface WebhooksSettings {
  /** AES-256-GCM key for webhook secrets; without it, creating a webhook with a secret is refused. */
  secretKey?: Buffer;
  /** Deliver to loopback, private and link-local addresses too (tests, closed networks). */
  allowPrivateNetworks: boolean;
  /** Milliseconds one delivery attempt may take. */
  timeoutMs: number;
  /** Response bytes read (and kept for the test endpoint); the rest is discarded. */
  maxResponseBytes: number;
  /** Tries per delivery, the first included. */
  maxAttempts: number;
  /** Delay before the first retry; doubled for each further one. */
  retryDelayMs: number;
  /** Deliveries sent at once by one process. */
  concurrency: number;
}

export interface WebhooksConfig {
  webhooks: WebhooksSettings;
}

export const webhooksConfig = configFragment(
  'webhooks',
  {
    MAST_WEBHOOKS_SECRET_KEY: optionalString,
    MAST_WEBHOOKS_ALLOW_PRIVATE_NETWORKS: optionalBoolean,
    MAST_WEBHOOKS_TIMEOUT: positiveInteger(30),
    MAST_WEBHOOKS_MAX_RESPONSE_BYTES: positiveInteger(64 * 1024),
    MAST_WEBHOOKS_MAX_ATTEMPTS: positiveInteger(4),
    MAST_WEBHOOKS_RETRY_DELAY_MS: nonNegativeInteger(1000),
    MAST_WEBHOOKS_CONCURRENCY: positiveInteger(4),
  },
  (e, report): WebhooksConfig => {
    const key = parseSecretKey(e.MAST_WEBHOOKS_SECRET_KEY);
    if (typeof key === 'string') report('MAST_WEBHOOKS_SECRET_KEY', key);
    return {
      webhooks: {
        secretKey: key instanceof Buffer ? key : undefined,
        allowPrivateNetworks: e.MAST_WEBHOOKS_ALLOW_PRIVATE_NETWORKS ?? false,
        timeoutMs: e.MAST_WEBHOOKS_TIMEOUT * 1000,
        maxResponseBytes: e.MAST_WEBHOOKS_MAX_RESPONSE_BYTES,
        maxAttempts: e.MAST_WEBHOOKS_MAX_ATTEMPTS,
        retryDelayMs: e.MAST_WEBHOOKS_RETRY_DELAY_MS,
        concurrency: e.MAST_WEBHOOKS_CONCURRENCY,
      },
    };
  },
);

/** Defaults (tests and embedders that do not read the environment). */
export const DEFAULT_WEBHOOKS_SETTINGS: WebhooksSettings = {
  allowPrivateNetworks: false,
  timeoutMs: 30_000,
  maxResponseBytes: 64 * 1024,
  maxAttempts: 4,
  retryDelayMs: 1000,
  concurrency: 4,
};
