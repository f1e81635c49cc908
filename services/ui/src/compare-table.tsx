import './compare-table.css';
import type { ReactNode } from 'react';

/** One compared row: a key and one shown value per column ('' where the column has none). */
export interface CompareRow {
  key: string;
  values: string[];
}

/**
 * Rows for keys of several columns (versions, runs): every key any column has, sorted, with each
 * column's value formatted by `format`.
 */
export function compareRows<T>(
  columns: readonly T[],
  items: (column: T) => ReadonlyArray<{ key: string; value: unknown }>,
  format: (value: unknown) => string = (value) =>
    value === undefined || value === null ? '' : String(value),
): CompareRow[] {
  const keys = [...new Set(columns.flatMap((column) => items(column).map((item) => item.key)))].sort();
  return keys.map((key) => ({
    key,
    values: columns.map((column) => format(items(column).find((item) => item.key === key)?.value)),
  }));
}

/**
 * A comparison table: a row per key, a column per compared thing. Rows whose values differ are
 * highlighted (`data-differs`), and so are the cells that differ from the first column (the baseline);
 * with `differencesOnly` the equal rows are left out.
 */
export function CompareTable({
  caption,
  headers,
  rows,
  differencesOnly,
  empty,
}: {
  caption: string;
  headers: ReactNode[];
  rows: CompareRow[];
  differencesOnly: boolean;
  empty: string;
}) {
  const shown = rows
    .map((row) => ({ ...row, differs: new Set(row.values).size > 1 }))
    .filter((row) => !differencesOnly || row.differs);
  return (
    <table className="table compare aligned">
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">Key</th>
          {headers.map((header, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: the columns are positional
            <th key={i} scope="col">
              {header}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {shown.map((row) => (
          <tr key={row.key} className={row.differs ? 'differs' : undefined} data-differs={row.differs}>
            <th scope="row">{row.key}</th>
            {row.values.map((value, i) => (
              <td
                // biome-ignore lint/suspicious/noArrayIndexKey: the columns are positional
                key={i}
                className={i > 0 && value !== row.values[0] ? 'changed' : undefined}
              >
                {value}
              </td>
            ))}
          </tr>
        ))}
        {shown.length === 0 ? (
          <tr>
            <td className="muted" colSpan={headers.length + 1}>
              {rows.length === 0 ? empty : 'No difference.'}
            </td>
          </tr>
        ) : null}
      </tbody>
    </table>
  );
}
