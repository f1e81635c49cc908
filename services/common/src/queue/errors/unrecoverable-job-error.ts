/**
 * Thrown by a job handler for a failure that retrying cannot fix (a payload that does not decode, a
 * target that does not exist, a rule the job breaks): the job fails at once, whatever tries it has
 * left. The Redis implementation rethrows it as BullMQ's `UnrecoverableError`, which BullMQ does not
 * retry; the in-process implementation applies the same rule. Any other error is retried while tries
 * remain.
 */
export class UnrecoverableJobError extends Error {
  override name = 'UnrecoverableJobError';

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}
