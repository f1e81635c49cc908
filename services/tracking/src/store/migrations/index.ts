import type { ServiceMigrations } from '@mast/common';
import * as initial from './0001-initial.js';

export const trackingMigrations: ServiceMigrations = {
  schema: 'tracking',
  migrations: { '0001-initial': initial },
};
