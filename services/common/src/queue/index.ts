export { InvalidJobDataError } from './errors/invalid-job-data-error.js';
export { QueueClosedError } from './errors/queue-closed-error.js';
export { UnrecoverableJobError } from './errors/unrecoverable-job-error.js';
export { InProcessQueueConnection, type InProcessQueueConnectionOptions } from './in-process-connection.js';
export { DEFAULT_KEEP_FINISHED, subscriptionQueueName } from './job-options.js';
export { createQueueConnection, type QueueConnectionOptions } from './open.js';
export { RedisQueueConnection, type RedisQueueConnectionOptions } from './redis-connection.js';
export { publishToTopic } from './topics.js';
export type * from './types.js';
