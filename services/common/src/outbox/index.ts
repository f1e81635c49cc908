export { appendEvent, appendEvents, type OutboxEvent } from './append.js';
export { outboxMigration, processedEventsMigration } from './migrations.js';
export { processEventOnce } from './process-once.js';
export { OutboxRelay, type OutboxRelayOptions } from './relay.js';
export type { OutboxDatabase, OutboxTable, ProcessedEventsTable } from './tables.js';
