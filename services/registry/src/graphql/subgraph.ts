import { buildSubgraphSchema } from '@apollo/subgraph';
import { withErrorCodes } from '@mast/common';
import { type GraphQLSchema, parse } from 'graphql';
import type { RegistryService } from '../service/registry.js';
import { webhookResolvers } from '../webhooks/graphql.js';
import type { WebhookService } from '../webhooks/service.js';
import type { GraphContext } from './context.js';
import { registrySdl } from './generated/schema.js';
import { createResolvers, Loaders } from './resolvers.js';

/** The subgraph's name in the supergraph. */
export const REGISTRY_SUBGRAPH = 'registry';

/** The registry subgraph's SDL (Federation 2), as composed into the supergraph. */
export function registryTypeDefs() {
  return parse(registrySdl);
}

/** The registry subgraph as an executable schema (per-request DataLoaders keyed by the context object). */
export function registrySubgraphSchema(
  registry: RegistryService,
  options: { maxPageSize: number; webhooks: WebhookService },
): GraphQLSchema {
  const loaders = new WeakMap<GraphContext, Loaders>();
  const resolvers = createResolvers(registry, {
    maxPageSize: options.maxPageSize,
    loaders(context) {
      let current = loaders.get(context);
      if (!current) {
        current = new Loaders(registry);
        loaders.set(context, current);
      }
      return current;
    },
  });
  // Webhooks and their deliveries (services/registry/src/webhooks), errors mapped like the rest.
  const hooks = withErrorCodes(webhookResolvers(options.webhooks, options.maxPageSize));
  Object.assign(resolvers.Query ?? {}, hooks.Query);
  Object.assign(resolvers, {
    Webhook: hooks.Webhook,
    WebhookDelivery: hooks.WebhookDelivery,
    WebhookDeliveryAttempt: hooks.WebhookDeliveryAttempt,
  });
  return buildSubgraphSchema({
    typeDefs: registryTypeDefs(),
    resolvers: resolvers as Parameters<typeof buildSubgraphSchema>[0] extends { resolvers?: infer R }
      ? R
      : never,
  });
}
