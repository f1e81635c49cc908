import { decodePageToken, encodePageToken, MlflowError } from '@mast/common';
import type { QueryResolvers, Resolvers } from '../graphql/generated/types.js';
import { eventKey } from './events.js';
import type { WebhookService } from './service.js';
import type { DeliveryWithAttempts, WebhookRecord } from './store.js';

export interface PageInfoModel {
  hasNextPage: boolean;
  endCursor: string | null;
}
export interface WebhookEdgeModel {
  cursor: string;
  node: WebhookRecord;
}
export interface WebhookConnectionModel {
  edges: WebhookEdgeModel[];
  nodes: WebhookRecord[];
  pageInfo: PageInfoModel;
}
export interface WebhookDeliveryEdgeModel {
  cursor: string;
  node: DeliveryWithAttempts;
}
export interface WebhookDeliveryConnectionModel {
  edges: WebhookDeliveryEdgeModel[];
  nodes: DeliveryWithAttempts[];
  pageInfo: PageInfoModel;
}

function page<T>(rows: T[], offset: number, size: number) {
  const nodes = rows.slice(0, size);
  const edges = nodes.map((node, i) => ({ cursor: encodePageToken(offset + i + 1), node }));
  return {
    edges,
    nodes,
    pageInfo: {
      hasNextPage: rows.length > size,
      endCursor: edges.length > 0 ? edges[edges.length - 1].cursor : null,
    },
  };
}

function pageSize(first: number | null | undefined, max: number): number {
  const size = first ?? Math.min(100, max);
  if (size < 1 || size > max)
    throw MlflowError.invalidParameter(`first must be between 1 and ${max}, got ${size}`);
  return size;
}

/** The webhook part of the registry subgraph (merged into its resolvers; errors mapped there). */
export function webhookResolvers(
  service: WebhookService,
  maxPageSize: number,
): { Query: Pick<QueryResolvers, 'webhooks' | 'webhook'> } & Pick<
  Resolvers,
  'Webhook' | 'WebhookDelivery' | 'WebhookDeliveryAttempt'
> {
  return {
    Query: {
      async webhooks(_parent, args) {
        const size = pageSize(args.first, maxPageSize);
        const offset = decodePageToken(args.after ?? undefined);
        return page(await service.list(offset, size + 1), offset, size);
      },
      async webhook(_parent, { id }) {
        try {
          return await service.get(id);
        } catch (error) {
          if (error instanceof MlflowError && error.code === 'RESOURCE_DOES_NOT_EXIST') return null;
          throw error;
        }
      },
    },
    Webhook: {
      id: (webhook) => webhook.webhookId,
      description: (webhook) => webhook.description ?? null,
      events: (webhook) => webhook.events.map(eventKey),
      hasSecret: (webhook) => webhook.secretEncrypted !== undefined,
      creationTimestamp: (webhook) => webhook.creationTimestamp,
      lastUpdatedTimestamp: (webhook) => webhook.lastUpdatedTimestamp,
      async deliveries(webhook, args) {
        const size = pageSize(args.first, maxPageSize);
        const offset = decodePageToken(args.after ?? undefined);
        return page(await service.deliveries(webhook.webhookId, offset, size + 1), offset, size);
      },
    },
    WebhookDelivery: {
      id: (delivery) => delivery.deliveryId,
      eventId: (delivery) => delivery.eventId,
      modelName: (delivery) => delivery.modelName ?? null,
      state: (delivery) => delivery.state.toUpperCase(),
      creationTimestamp: (delivery) => delivery.createdAt,
      lastUpdatedTimestamp: (delivery) => delivery.updatedAt,
      attempts: (delivery) => delivery.attemptList,
    },
    WebhookDeliveryAttempt: {
      timestamp: (attempt) => attempt.attemptedAt,
      responseStatus: (attempt) => attempt.responseStatus ?? null,
      error: (attempt) => attempt.error ?? null,
    },
  };
}
