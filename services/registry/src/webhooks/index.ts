import type { Closer, QueueConnection } from '@mast/common';
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { DEFAULT_WEBHOOKS_SETTINGS, type WebhooksSettings } from './config.js';
import { registerWebhookRoutes } from './routes.js';
import { WebhookService } from './service.js';

export {
  DEFAULT_WEBHOOKS_SETTINGS,
  type WebhooksConfig,
  type WebhooksSettings,
  webhooksConfig,
} from './config.js';
export { registerWebhookRoutes } from './routes.js';
export { WEBHOOK_CONSUMER, WEBHOOK_DELIVERIES_QUEUE, WebhookService } from './service.js';

export interface Webhooks {
  service: WebhookService;
  registerRest(app: FastifyInstance): Promise<void>;
  /** Stops the dispatcher and the delivery worker (register before the queue connection closes). */
  closer: Closer;
}

/**
 * Webhooks for one process: the REST API, and (started at once) the subscriber of the `registry-events`
 * topic that records and enqueues deliveries plus the worker that makes them, on `queues`. Start it
 * before the registry's relay, so the subscription exists before the first event is published.
 */
export async function startWebhooks(deps: {
  /** The service to run (pass the one GraphQL reads, see `createRegistry`); else one is made from the rest. */
  service?: WebhookService;
  db?: Kysely<unknown>;
  settings?: WebhooksSettings;
  queues: QueueConnection;
  log?: (message: string, details: Record<string, unknown>) => void;
}): Promise<Webhooks> {
  const service =
    deps.service ??
    new WebhookService({
      db: deps.db as Kysely<unknown>,
      settings: deps.settings ?? DEFAULT_WEBHOOKS_SETTINGS,
      log: deps.log,
    });
  const workers = await service.start(deps.queues);
  return {
    service,
    registerRest: (app) => registerWebhookRoutes(app, service),
    closer: {
      name: 'webhook dispatcher and delivery worker',
      close: async () => {
        await Promise.all(workers.map((worker) => worker.close()));
      },
    },
  };
}
