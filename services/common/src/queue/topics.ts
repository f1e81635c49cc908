import { subscriptionQueueName } from './job-options.js';
import type { JobOptions, QueueConnection } from './types.js';

/**
 * Publishes an event to every current subscriber of `topic` (each gets it on its own queue, see
 * `QueueConnection.subscribe`) and resolves with how many subscribers it was added for. `options.jobId`
 * (the event id) makes a republish a no-op per subscriber while its queue remembers the job. With no
 * subscriber the event goes nowhere, as on any topic nobody listens to.
 */
export async function publishToTopic<T>(
  queues: QueueConnection,
  topic: string,
  name: string,
  data: T,
  options?: JobOptions,
): Promise<number> {
  const subscribers = await queues.subscribers(topic);
  for (const subscriber of subscribers) {
    await queues.queue<T>(subscriptionQueueName(topic, subscriber)).add(name, data, options);
  }
  return subscribers.length;
}
