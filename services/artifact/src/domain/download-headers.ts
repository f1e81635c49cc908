/**
 * The headers MLflow's server puts on a downloaded artifact: the type from `_guess_mime_type`
 * (`mlflow/utils/mime_type_utils.py`) and Werkzeug's `send_file(as_attachment=True)` disposition.
 * Pure functions of the file name.
 */
import mime from 'mime-types';
import { artifactBasename } from './artifact-path.js';

/** `get_text_extensions()`: served as `text/plain` (matched case-sensitively, as Python does). */
const TEXT_EXTENSIONS: ReadonlySet<string> = new Set([
  'txt',
  'log',
  'err',
  'cfg',
  'conf',
  'cnf',
  'cf',
  'ini',
  'properties',
  'prop',
  'hocon',
  'toml',
  'yaml',
  'yml',
  'xml',
  'json',
  'js',
  'py',
  'py3',
  'csv',
  'tsv',
  'md',
  'rst',
  'MLmodel',
  'mlproject',
]);

/** Python's `os.path.splitext(name)[1]` without its dot: leading dots do not start an extension. */
function extensionOf(name: string): string {
  const dot = name.lastIndexOf('.');
  if (dot <= 0 || /^\.+$/.test(name.slice(0, dot + 1))) return '';
  return name.slice(dot + 1);
}

/** Python's `mimetypes.encodings_map`: a compression suffix names no type; the one before it does. */
const ENCODING_EXTENSIONS: ReadonlySet<string> = new Set(['gz', 'Z', 'bz2', 'xz', 'br']);

/** Python's `mimetypes.guess_type(name)[0]` as far as the extension goes, else octet-stream. */
function registeredType(name: string): string {
  let stem = name;
  let extension = extensionOf(stem);
  if (ENCODING_EXTENSIONS.has(extension)) {
    stem = stem.slice(0, -(extension.length + 1));
    extension = extensionOf(stem);
  }
  return (extension && mime.lookup(extension)) || 'application/octet-stream';
}

/**
 * MLflow's `_guess_mime_type`: `text/plain` for the text extensions (a name without one, such as
 * `MLmodel`, is looked up whole), else the registered type of the extension, else
 * `application/octet-stream`.
 */
export function guessContentType(path: string): string {
  const name = artifactBasename(path);
  if (TEXT_EXTENSIONS.has(extensionOf(name) || name)) return 'text/plain';
  return registeredType(name);
}

/** HTTP token characters (RFC 9110): such a value is written bare, as Werkzeug's `quote_header_value`. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function quoteHeaderValue(value: string): string {
  return TOKEN.test(value) ? value : `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** Python's `urllib.parse.quote(value, safe="!#$&+^`|")` of the UTF-8 bytes. */
function pythonQuote(value: string): string {
  return Array.from(Buffer.from(value, 'utf8'))
    .map((byte) => {
      const c = String.fromCharCode(byte);
      return /[A-Za-z0-9_.\-~!#$&+^`|]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    })
    .join('');
}

/**
 * `Content-Disposition` for a download as Werkzeug's `send_file(as_attachment=True)` writes it:
 * `attachment; filename=MLmodel` (quoted only when the name is not a token); a non-ASCII name gets an
 * ASCII fallback (NFKD, other characters dropped) and `filename*=UTF-8''…` with the exact name.
 */
export function contentDisposition(path: string): string {
  const name = artifactBasename(path);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: ASCII is the whole range tested.
  if (/^[\x00-\x7f]*$/.test(name)) return `attachment; filename=${quoteHeaderValue(name)}`;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: non-ASCII characters are dropped.
  const simple = name.normalize('NFKD').replace(/[^\x00-\x7f]/g, '');
  return `attachment; filename=${quoteHeaderValue(simple)}; filename*=UTF-8''${pythonQuote(name)}`;
}
