export { type RegistryConfig, registryConfig } from './config.js';
export { registryService } from './descriptor.js';
export { type ParsedModelUri, parseModelUri } from './domain/model-uri.js';
export {
  parseModelFilter,
  parseModelOrderBy,
  parseVersionFilter,
  parseVersionOrderBy,
} from './domain/search.js';
export {
  createRegistry,
  REGISTRY_SUBGRAPH,
  type Registry,
  type RegistryDependencies,
  registryTypeDefs,
  startRegistryRelay,
} from './plugin.js';
export { REGISTRY_EVENTS_QUEUE } from './service/events.js';
export { type LoggedModels, loggedModelsVia } from './service/logged-models.js';
export type { Actor, ResolvedModelUri } from './service/registry.js';
export { RegistryService } from './service/registry.js';
export { REGISTRY_SCHEMA, registryMigrations } from './store/migrations/index.js';
export type { RegistryDatabase } from './store/schema.js';
export {
  DEFAULT_WEBHOOKS_SETTINGS,
  startWebhooks,
  WEBHOOK_DELIVERIES_QUEUE,
  WebhookService,
  type Webhooks,
  type WebhooksConfig,
  type WebhooksSettings,
  webhooksConfig,
} from './webhooks/index.js';
