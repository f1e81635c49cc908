export { prepareTrackingDatabase, registerTracking, type TrackingDependencies } from './plugin.js';
export { trackingMigrations } from './store/migrations/index.js';
export type { TrackingDatabase } from './store/schema.js';
