export { trackingService } from './descriptor.js';
export {
  createTracking,
  prepareTrackingDatabase,
  TRACKING_SUBGRAPH,
  type Tracking,
  type TrackingDependencies,
  trackingTypeDefs,
} from './plugin.js';
export { trackingMigrations } from './store/migrations/index.js';
export type { TrackingDatabase } from './store/schema.js';
