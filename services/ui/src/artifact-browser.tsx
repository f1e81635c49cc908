import Papa from 'papaparse';
import { useEffect, useState } from 'react';
import { Link } from 'react-router-dom';
import { useQuery } from './api';
import { ErrorMessage, Loading } from './components';
import { IMAGE_FILE } from './domain/logged-images';

/** Whose artifacts a browser shows: a run's or a logged model's (the same listing, another root). */
export interface ArtifactOwner {
  kind: 'run' | 'loggedModel';
  id: string;
}

// The owner is aliased so both answers have one shape.
const ARTIFACTS_QUERIES: Record<ArtifactOwner['kind'], string> = {
  run: `
  query RunArtifacts($id: ID!, $path: String) {
    owner: run(id: $id) { id artifacts(path: $path) { path isDir fileSize downloadUrl } }
  }`,
  loggedModel: `
  query LoggedModelArtifacts($id: ID!, $path: String) {
    owner: loggedModel(id: $id) { id artifacts(path: $path) { path isDir fileSize downloadUrl } }
  }`,
};

export interface ArtifactFile {
  path: string;
  isDir: boolean;
  fileSize: number | null;
  downloadUrl: string | null;
}

/** Text previews read at most this much of a file (ui.md goal G11: nothing over 1 MB without a click). */
const TEXT_PREVIEW_BYTES = 256 * 1024;
/** Images larger than this wait for a click. */
export const IMAGE_PREVIEW_BYTES = 1024 * 1024;
const TEXT =
  /\.(txt|log|md|json|ya?ml|csv|tsv|py|r|sh|toml|ini|cfg|xml|html?)$|(^|\/)(MLmodel|requirements\.txt|conda\.yaml|python_env\.yaml)$/i;
const TABLE = /\.(csv|tsv)$/i;
/** A CSV or TSV preview shows at most this many data rows (ui.md goal G11: the first 1,000 rows). */
const TABLE_PREVIEW_ROWS = 1000;

/** A download URL the server gave (a path on this server, or presigned) resolved under the `<base href>`. */
export function resolveDownload(url: string): string {
  return /^[a-z][a-z0-9+.-]*:/i.test(url)
    ? url
    : new URL(url.replace(/^\/+/, ''), document.baseURI).toString();
}

export function formatBytes(bytes: number | null): string {
  if (bytes === null) return '';
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** The first `TEXT_PREVIEW_BYTES` of a file: a ranged request, and the stream cut there whatever the answer. */
async function readHead(url: string): Promise<{ text: string; truncated: boolean }> {
  const response = await fetch(url, { headers: { range: `bytes=0-${TEXT_PREVIEW_BYTES - 1}` } });
  if (!response.ok || !response.body) throw new Error(`The server answered ${response.status}.`);
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (size < TEXT_PREVIEW_BYTES) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.length;
  }
  await reader.cancel();
  const bytes = new Uint8Array(Math.min(size, TEXT_PREVIEW_BYTES));
  let offset = 0;
  for (const chunk of chunks) {
    const part = chunk.subarray(0, bytes.length - offset);
    bytes.set(part, offset);
    offset += part.length;
    if (offset === bytes.length) break;
  }
  return { text: new TextDecoder().decode(bytes), truncated: size >= TEXT_PREVIEW_BYTES };
}

/**
 * The header and first rows of a CSV/TSV head (Papa Parse; the delimiter guessed as in MLflow's
 * preview): at most TABLE_PREVIEW_ROWS rows, and a truncated head's last line, likely cut, left out.
 */
function tableOf(head: { text: string; truncated: boolean }): { header: string[]; rows: string[][] } {
  const text = head.truncated ? head.text.slice(0, head.text.lastIndexOf('\n') + 1) : head.text;
  const parsed = Papa.parse<string[]>(text, { preview: TABLE_PREVIEW_ROWS + 1, skipEmptyLines: true });
  const [header = [], ...rows] = parsed.data;
  return { header, rows };
}

function TablePreview({ head, path }: { head: { text: string; truncated: boolean }; path: string }) {
  const { header, rows } = tableOf(head);
  return (
    <>
      <p className="muted">
        {rows.length} rows shown
        {head.truncated || rows.length === TABLE_PREVIEW_ROWS
          ? ` (the first rows of the first ${formatBytes(TEXT_PREVIEW_BYTES)}; download the file for the rest)`
          : ''}
        .
      </p>
      <div className="preview preview-table">
        <table className="table compare" aria-label={`Rows of ${path}`} data-testid="artifact-table">
          <thead>
            <tr>
              {header.map((name, i) => (
                // biome-ignore lint/suspicious/noArrayIndexKey: columns are positional (names may repeat)
                <th key={i} scope="col">
                  {name}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((row, r) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: rows are positional and never reordered
              <tr key={r}>
                {row.map((cell, c) => (
                  // biome-ignore lint/suspicious/noArrayIndexKey: cells are positional
                  <td key={c}>{cell}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}

function Preview({ file }: { file: ArtifactFile }) {
  const url = file.downloadUrl ? resolveDownload(file.downloadUrl) : undefined;
  const [head, setHead] = useState<{ text: string; truncated: boolean }>();
  const [error, setError] = useState<Error>();
  const [showImage, setShowImage] = useState((file.fileSize ?? 0) <= IMAGE_PREVIEW_BYTES);
  const isText = TEXT.test(file.path);
  useEffect(() => {
    setHead(undefined);
    setError(undefined);
    if (!url || !isText) return;
    readHead(url).then(setHead, setError);
  }, [url, isText]);
  return (
    <section className="card" aria-label={`Preview of ${file.path}`}>
      <h2>{file.path.split('/').at(-1)}</h2>
      <p className="muted">
        {formatBytes(file.fileSize)}{' '}
        {url ? (
          <a href={url} download>
            Download
          </a>
        ) : null}
      </p>
      <ErrorMessage error={error} />
      {isText && head && TABLE.test(file.path) ? <TablePreview head={head} path={file.path} /> : null}
      {isText && head && !TABLE.test(file.path) ? (
        <>
          {head.truncated ? (
            <p className="muted">
              Showing the first {formatBytes(TEXT_PREVIEW_BYTES)}; download the file for the rest.
            </p>
          ) : null}
          <pre className="preview" data-testid="artifact-text">
            {head.text}
          </pre>
        </>
      ) : null}
      {IMAGE_FILE.test(file.path) && url ? (
        showImage ? (
          <img className="preview-image" src={url} alt={file.path} />
        ) : (
          <button type="button" onClick={() => setShowImage(true)}>
            Show the image ({formatBytes(file.fileSize)})
          </button>
        )
      ) : null}
      {!isText && !IMAGE_FILE.test(file.path) ? (
        <p className="muted">No preview for this kind of file.</p>
      ) : null}
    </section>
  );
}

type ArtifactsData = { owner: { artifacts: ArtifactFile[] } | null };

/**
 * P6: a run's (or a logged model's) artifacts, one directory at a time (the path is the URL:
 * `<root>/<path>`, `root` being the page's artifacts tab), with guarded previews: text files show their
 * first 256 KB (read with a range and cut there; CSV and TSV as a table of their first rows), images up
 * to 1 MB show at once and larger ones on a click, anything else is a download link.
 */
export function ArtifactBrowser({ owner, root, path }: { owner: ArtifactOwner; root: string; path: string }) {
  const query = ARTIFACTS_QUERIES[owner.kind];
  const parent = path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '';
  // A path is a directory until its parent's listing says it is a file.
  const parentListing = useQuery<ArtifactsData>(query, { id: owner.id, path: parent || null }, path === '');
  const selected = parentListing.data?.owner?.artifacts.find((file) => file.path === path);
  const directory = path === '' || selected?.isDir ? path : parent;
  const listing = useQuery<ArtifactsData>(
    query,
    { id: owner.id, path: directory || null },
    path !== '' && !parentListing.data,
  );
  const link = (to: string) => `${root}${to ? `/${to}` : ''}`;
  const crumbs = directory ? directory.split('/') : [];
  const files = listing.data?.owner?.artifacts ?? [];
  return (
    <div className="cards artifacts">
      <section className="card" aria-label="Artifact files">
        <nav aria-label="Artifact path" className="breadcrumb">
          <Link to={link('')}>Artifacts</Link>
          {crumbs.map((name, i) => (
            <span key={crumbs.slice(0, i + 1).join('/')}>
              {' / '}
              <Link to={link(crumbs.slice(0, i + 1).join('/'))}>{name}</Link>
            </span>
          ))}
        </nav>
        <ErrorMessage error={listing.error ?? parentListing.error} />
        {listing.loading && !listing.data ? <Loading what="artifacts" /> : null}
        {listing.data && files.length === 0 ? <p className="muted">No artifact here.</p> : null}
        <ul className="plain-list">
          {files.map((file) => (
            <li key={file.path}>
              <Link to={link(file.path)} aria-current={file.path === path ? 'true' : undefined}>
                {file.isDir ? '📁 ' : ''}
                {file.path.split('/').at(-1)}
              </Link>{' '}
              <span className="muted">{formatBytes(file.fileSize)}</span>
            </li>
          ))}
        </ul>
      </section>
      {selected && !selected.isDir ? <Preview key={selected.path} file={selected} /> : null}
    </div>
  );
}
