import { UnrecoverableJobError } from './unrecoverable-job-error.js';

/**
 * A job whose data a consumer cannot read (missing fields, unknown event type or version): a retry
 * would read the same data, so the job fails at once (it is an `UnrecoverableJobError`).
 */
export class InvalidJobDataError extends UnrecoverableJobError {
  override name = 'InvalidJobDataError';
}
