export { registerSubgraphEndpoint } from '@mast/common';
export {
  prepareTrackingDatabase,
  registerTracking,
  registerTrackingSubgraph,
  TRACKING_SUBGRAPH,
  type TrackingDependencies,
  type TrackingSubgraphDependencies,
  trackingSubgraph,
  trackingTypeDefs,
} from './plugin.js';
export { trackingMigrations } from './store/migrations/index.js';
export type { TrackingDatabase } from './store/schema.js';
