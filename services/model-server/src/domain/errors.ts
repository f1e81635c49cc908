import { type ErrorCode, MlflowError } from '@mast/common';

/**
 * The last line of a Python traceback for `cause`: `ValueError: …` for a Python exception Mast words
 * (an error with `pyName`), `<name>: <message>` for another error. Node's frames are never included:
 * they name this installation's files, and MLflow's clients expect Python's traceback there anyway.
 */
function exceptionLine(cause: unknown): string {
  if (typeof cause !== 'object' || cause === null) return String(cause);
  const { pyName, name, message } = cause as { pyName?: unknown; name?: unknown; message?: unknown };
  const type = typeof pyName === 'string' ? pyName : typeof name === 'string' ? name : 'Exception';
  return `${type}: ${typeof message === 'string' ? message : String(cause)}`;
}

/**
 * An MLflow error whose JSON carries a `stack_trace`, as MLflow's scoring server adds one to the errors
 * it raises while handling another exception (`_handle_serving_error` for a CSV body pandas cannot
 * read, and the "unexpected error" of a failing model): `{"error_code", "message", "stack_trace"}`.
 * The trace is the cause's exception line (`exceptionLine`), where MLflow shows Python's whole traceback.
 */
export class TracedMlflowError extends MlflowError {
  readonly stackTrace: string;

  constructor(code: ErrorCode, message: string, cause: unknown) {
    super(code, message);
    this.stackTrace = exceptionLine(cause);
  }

  override toJSON(): { error_code: ErrorCode; message: string; stack_trace: string } {
    return { ...super.toJSON(), stack_trace: this.stackTrace };
  }
}

/** A CSV body pandas' `read_csv` cannot read (`parse_csv_input`): 400 BAD_REQUEST with a stack trace. */
export class CsvParseError extends TracedMlflowError {
  /**
   * `cause`: the failure, an error or `{pyName, message}` (pandas' own exception); by default the
   * MlflowException MLflow raises itself while reading the CSV (a tensor signature's dtypes).
   */
  constructor(
    detail: string,
    cause: unknown = { pyName: 'mlflow.exceptions.MlflowException', message: detail },
  ) {
    super(
      'BAD_REQUEST',
      'Failed to parse input as a Pandas DataFrame. Ensure that the input is a valid CSV-formatted Pandas ' +
        `DataFrame produced using the \`pandas.DataFrame.to_csv()\` method. Error: '${detail}'`,
      cause,
    );
  }
}

/** The most dimensions a numpy array has (`NPY_MAXDIMS`, numpy 2), which a request's tensors meet. */
export const MAX_DIMENSIONS = 64;

/**
 * How deep a request's JSON may nest lists and objects: a tensor of MAX_DIMENSIONS inside its envelope
 * (`{"dataframe_split": {"data": [[cell]]}}`, `{"inputs": {"name": tensor}}`). Deeper input is no
 * array numpy builds, and a bound keeps every walk over request values within the stack.
 */
export const MAX_NESTING = MAX_DIMENSIONS + 8;

/** 400 BAD_REQUEST "Invalid input. ..." (MLflow's `MlflowInvalidInputException`) for input nested too deep. */
export function nestedTooDeep(): MlflowError {
  return new MlflowError(
    'BAD_REQUEST',
    `Invalid input. The input nests lists or objects more than ${MAX_NESTING} levels deep; ` +
      `a tensor has at most ${MAX_DIMENSIONS} dimensions.`,
  );
}

/** Whether a JSON value nests lists or objects more than `limit` levels deep (walked without recursion). */
export function nestsDeeperThan(value: unknown, limit: number): boolean {
  const pending: Array<[node: object, depth: number]> = [];
  if (typeof value === 'object' && value !== null) pending.push([value, 1]);
  while (pending.length > 0) {
    const [node, depth] = pending.pop()!;
    if (depth > limit) return true;
    for (const item of Array.isArray(node) ? node : Object.values(node))
      if (typeof item === 'object' && item !== null) pending.push([item, depth + 1]);
  }
  return false;
}
