import type { ServiceMigrations } from '@mast/common';
import * as initial from './0001-initial.js';

export const DEPLOY_SCHEMA = 'deploy';

export const deployMigrations: ServiceMigrations = {
  schema: DEPLOY_SCHEMA,
  migrations: { '0001-initial': initial },
};
