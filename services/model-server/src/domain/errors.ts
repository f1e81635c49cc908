import { type ErrorCode, MlflowError } from '@mast/common';

/**
 * An MLflow error whose JSON carries a `stack_trace`, as MLflow's scoring server adds one to the errors
 * it raises while handling another exception (`_handle_serving_error` for a CSV body pandas cannot
 * read, and the "unexpected error" of a failing model): `{"error_code", "message", "stack_trace"}`.
 * The trace is the underlying error's (Node's, where MLflow shows Python's).
 */
export class TracedMlflowError extends MlflowError {
  readonly stackTrace: string;

  constructor(code: ErrorCode, message: string, cause?: unknown) {
    super(code, message);
    this.stackTrace =
      (cause instanceof Error ? cause.stack : undefined) ??
      (cause === undefined ? this.stack : String(cause)) ??
      '';
  }

  override toJSON(): { error_code: ErrorCode; message: string; stack_trace: string } {
    return { ...super.toJSON(), stack_trace: this.stackTrace };
  }
}

/** A CSV body pandas' `read_csv` cannot read (`parse_csv_input`): 400 BAD_REQUEST with a stack trace. */
export class CsvParseError extends TracedMlflowError {
  constructor(detail: string, cause?: unknown) {
    super(
      'BAD_REQUEST',
      'Failed to parse input as a Pandas DataFrame. Ensure that the input is a valid CSV-formatted Pandas ' +
        `DataFrame produced using the \`pandas.DataFrame.to_csv()\` method. Error: '${detail}'`,
      cause,
    );
  }
}
