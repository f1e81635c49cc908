import { outboxMigration, type ServiceMigrations } from '@mast/common';
import * as initial from './0001-initial.js';
import * as webhooks from './0003-webhooks.js';

export const REGISTRY_SCHEMA = 'registry';

export const registryMigrations: ServiceMigrations = {
  schema: REGISTRY_SCHEMA,
  migrations: {
    '0001-initial': initial,
    '0002-outbox': outboxMigration(REGISTRY_SCHEMA),
    '0003-webhooks': webhooks,
  },
};
