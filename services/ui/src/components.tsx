import type { ReactNode } from 'react';
import type { GraphQLRequestError } from './api';

/** A failed request, announced to screen readers. */
export function ErrorMessage({ error }: { error: GraphQLRequestError | Error | undefined }) {
  if (!error) return null;
  const code = 'code' in error && error.code ? `${error.code}: ` : '';
  return (
    <p role="alert" className="error">
      {code}
      {error.message}
    </p>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p role="status" className="muted">
      Loading {what}…
    </p>
  );
}

/** A page's title row: heading, optional subtitle and actions. */
export function PageHeader({ title, children }: { title: ReactNode; children?: ReactNode }) {
  return (
    <header className="page-header">
      <h1>{title}</h1>
      {children}
    </header>
  );
}

/** Key-value rows (tags, params) as an accessible table. */
export function KeyValueTable({
  caption,
  rows,
  empty,
}: {
  caption: string;
  rows: ReadonlyArray<{ key: string; value: ReactNode }>;
  empty: string;
}) {
  if (rows.length === 0) return <p className="muted">{empty}</p>;
  return (
    <table className="table">
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">Key</th>
          <th scope="col">Value</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => (
          <tr key={row.key}>
            <th scope="row">{row.key}</th>
            <td>{row.value}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** A run status as a coloured badge. */
export function StatusBadge({ status }: { status: string }) {
  return <span className={`badge status-${status.toLowerCase()}`}>{status}</span>;
}
