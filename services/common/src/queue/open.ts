import { InProcessQueueConnection } from './in-process-connection.js';
import { RedisQueueConnection } from './redis-connection.js';
import type { KeepFinished, QueueConnection } from './types.js';

export interface QueueConnectionOptions {
  /** Redis URL (the process's `REDIS_URL`, read by its config): BullMQ on Redis; unset: in-process queues. */
  redisUrl?: string;
  /** Redis key prefix. Default `mast`. Ignored in-process. */
  prefix?: string;
  /** How long finished jobs (and so their ids) are remembered. Default 7 days, 10,000 jobs per queue. */
  keepFinished?: Partial<KeepFinished>;
  /** Told about connection and worker errors (for logging). Ignored in-process. */
  onError?: (error: Error) => void;
}

/**
 * The queue connection a composition root hands to its services: BullMQ on Redis when `redisUrl` is
 * set (cluster), queues in this process's memory otherwise (embedded `mast server`, ARCHITECTURE.md
 * "Two ways to run"). Register its `close()` with the process lifecycle. It connects lazily: an
 * unreachable Redis surfaces through `onError` and pending `add()` calls, not here.
 */
export function createQueueConnection(options: QueueConnectionOptions = {}): QueueConnection {
  if (options.redisUrl) {
    return new RedisQueueConnection({
      url: options.redisUrl,
      prefix: options.prefix,
      keepFinished: options.keepFinished,
      onError: options.onError,
    });
  }
  return new InProcessQueueConnection({ keepFinished: options.keepFinished });
}
