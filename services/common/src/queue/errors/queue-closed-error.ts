/** `add()` or `process()` on a queue (or connection) after `close()`: the process is shutting down. */
export class QueueClosedError extends Error {
  override name = 'QueueClosedError';

  constructor(queue: string) {
    super(`Queue ${queue} is closed`);
  }
}
