/**
 * Python's text forms of values, as MLflow's scoring server prints them inside its messages (they are
 * f-strings over Python objects): `repr()` of strings, numbers, lists and dicts, exception reprs, and
 * approximations of numpy's and pandas' `str()` of arrays and DataFrames.
 */

/** Python's `repr()` of a str: single quotes unless the text has one and no double quote. */
export function pyStr(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  const escaped = text
    .replace(/\\/g, '\\\\')
    .replace(/\n/g, '\\n')
    .replace(/\r/g, '\\r')
    .replace(/\t/g, '\\t');
  return `${quote}${quote === "'" ? escaped.replace(/'/g, "\\'") : escaped}${quote}`;
}

/** Python's `repr()` of a float or int from JSON (`1.0`, `2`, `nan`, `inf`, `1e-05`). */
export function pyNumber(value: number, float = !Number.isInteger(value)): string {
  if (Number.isNaN(value)) return 'nan';
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
  if (!float) return String(value);
  // JS prints -0 as "0"; a float keeps its sign in Python (an int has no -0).
  if (Object.is(value, -0)) return '-0.0';
  const text = String(value);
  const exponent = /^(-?[\d.]+)e([+-])(\d+)$/.exec(text);
  if (exponent) return `${exponent[1]}e${exponent[2]}${exponent[3]!.padStart(2, '0')}`;
  if (Math.abs(value) >= 1e16) return value.toExponential().replace(/e\+(\d)$/, 'e+0$1');
  if (value !== 0 && Math.abs(value) < 1e-4) return value.toExponential().replace(/e-(\d)$/, 'e-0$1');
  return text.includes('.') ? text : `${text}.0`;
}

/** Python's `repr()` of a JSON value (`None`, `True`, `'text'`, `[1, 2]`, `{'a': 1}`). */
export function pyRepr(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (typeof value === 'string') return pyStr(value);
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'number') return pyNumber(value);
  if (typeof value === 'bigint') return String(value);
  if (Array.isArray(value)) return `[${value.map(pyRepr).join(', ')}]`;
  return `{${Object.entries(value as Record<string, unknown>)
    .map(([key, item]) => `${pyStr(key)}: ${pyRepr(item)}`)
    .join(', ')}}`;
}

/** Python's name of a JSON value's type (`str`, `int`, `float`, `bool`, `NoneType`, `list`, `dict`). */
export function pyTypeName(value: unknown): string {
  if (value === null || value === undefined) return 'NoneType';
  if (typeof value === 'string') return 'str';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'float';
  return Array.isArray(value) ? 'list' : 'dict';
}

/** Python's `type(value)` as MLflow's messages print it: `<class 'str'>`. */
export function pyType(value: unknown): string {
  return `<class '${pyTypeName(value)}'>`;
}

/** Python's `repr()` of an exception: `ValueError("could not convert string to float: 'x'")`. */
export function pyException(name: string, message: string): string {
  return `${name}(${pyStr(message)})`;
}

/** A column label as pandas keeps it: a JSON number label stays a number (`[0, 1]`, not `['0', '1']`). */
export type Label = string | number;

/** Python's repr of a list of labels, as MLflow's "missing inputs" messages print them. */
export function pyLabels(labels: readonly Label[]): string {
  return `[${labels.map((label) => (typeof label === 'number' ? String(label) : pyStr(label))).join(', ')}]`;
}

/** numpy's `str()` of one element in an array of floats: at most 8 decimals (`1.`, `0.25`, `nan`). */
function numpyFloat(value: number): string {
  if (!Number.isFinite(value)) return pyNumber(value, true);
  const magnitude = Math.abs(value);
  if (magnitude !== 0 && (magnitude >= 1e16 || magnitude < 1e-4)) return pyNumber(value, true);
  if (Object.is(value, -0)) return '-0.';
  const text = String(Number(value.toFixed(8)));
  return text.includes('.') || text.includes('e') ? text : `${text}.`;
}

/** numpy's summary of a long axis: the first and last three items around `...` (over 1000 elements). */
function summarized(items: readonly unknown[], summarize: boolean): unknown[] {
  return summarize && items.length > 6 ? [...items.slice(0, 3), SKIPPED, ...items.slice(-3)] : [...items];
}

const SKIPPED = Symbol('...');

function countElements(value: unknown): number {
  return Array.isArray(value) ? value.reduce((sum: number, item) => sum + countElements(item), 0) : 1;
}

/**
 * numpy's `str()` of an array given as nested JSON-like values (`[[1. 2. 3. 4.]]`), summarized past
 * 1000 elements as numpy does, without numpy's column padding and line wrapping: the form MLflow's
 * "Failed to predict data" messages show for tensor inputs.
 */
export function numpyStr(value: unknown, float: boolean, separator = ' '): string {
  const summarize = countElements(value) > 1000;
  const format = (node: unknown): string => {
    if (node === SKIPPED) return '...';
    if (Array.isArray(node)) return `[${summarized(node, summarize).map(format).join(separator)}]`;
    if (typeof node === 'number') return float || !Number.isInteger(node) ? numpyFloat(node) : String(node);
    if (typeof node === 'bigint') return String(node);
    if (typeof node === 'string') return pyStr(node);
    if (typeof node === 'boolean') return node ? 'True' : 'False';
    return 'None';
  };
  return format(value);
}

/**
 * pandas' `str()` of a small DataFrame (`   f0   f1\n0  1.0  2.0`): the index and each column
 * right-aligned to its widest cell; a float column (`floats[i]`, or any fraction or null among
 * numbers) prints with its longest decimals, as pandas does.
 */
export function pandasStr(
  labels: readonly Label[],
  columns: readonly (readonly unknown[])[],
  rows: number,
  floats: readonly boolean[] = [],
): string {
  if (rows === 0) return `Empty DataFrame\nColumns: [${labels.map(String).join(', ')}]\nIndex: []`;
  const cells = columns.map((values, at) => {
    const numeric = values.every((value) => typeof value === 'number' || value === null);
    const float =
      numeric && (floats[at] === true || values.some((value) => value === null || !Number.isInteger(value)));
    if (!float)
      return values.map((value) =>
        typeof value === 'string' ? value : value === null ? 'None' : pyRepr(value),
      );
    const decimals = Math.max(
      1,
      ...values.map((value) => {
        const text = typeof value === 'number' && Number.isFinite(value) ? String(value) : '';
        return text.includes('.') && !text.includes('e') ? text.split('.')[1]!.length : 0;
      }),
    );
    return values.map((value) =>
      value === null || Number.isNaN(value)
        ? 'NaN'
        : Number.isFinite(value as number)
          ? `${Object.is(value, -0) ? '-' : ''}${(value as number).toFixed(Math.min(decimals, 6))}`
          : (value as number) > 0
            ? 'inf'
            : '-inf',
    );
  });
  // pandas shows the first and last 5 rows of a frame over 60 rows, and its size under them.
  const shown =
    rows > 60
      ? [0, 1, 2, 3, 4, -1, rows - 5, rows - 4, rows - 3, rows - 2, rows - 1]
      : [...Array(rows).keys()];
  const index = shown.map((row) => (row < 0 ? '..' : String(row)));
  const shownCells = cells.map((column) => shown.map((row) => (row < 0 ? '..' : column[row]!)));
  const indexWidth = Math.max(...index.map((text) => text.length));
  const widths = shownCells.map((column, at) =>
    Math.max(String(labels[at]).length, ...column.map((text) => text.length)),
  );
  const header = [' '.repeat(indexWidth), ...labels.map((label, at) => String(label).padStart(widths[at]!))];
  const lines = [header.join('  ')];
  for (const [at, label] of index.entries())
    lines.push(
      [label.padEnd(indexWidth), ...shownCells.map((column, col) => column[at]!.padStart(widths[col]!))].join(
        '  ',
      ),
    );
  if (rows > 60) lines.push('', `[${rows} rows x ${labels.length} columns]`);
  return lines.join('\n');
}

/** numpy's `repr()` of an array (`array([[1., 2.]])`), as a dict of arrays prints its values. */
export function numpyRepr(value: unknown, float: boolean): string {
  return `array(${numpyStr(value, float, ', ')})`;
}
