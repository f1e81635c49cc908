/**
 * Saved views of the web UI (ui.md §5.1, goals G9 and G10): a page's state (its URL's query string,
 * opaque here) stored under a short id. Unnamed views are the UI's short links for states too long for a
 * URL: their id is derived from the state, so saving the same state again, by anyone, gives the same id.
 * Named views are their owner's, personal or shared; saving a name the owner already uses on that page
 * replaces that view's state. Pure code.
 */
import { createHash, randomBytes } from 'node:crypto';
import { MlflowError } from '@mast/common';

export const VIEW_LIMITS = {
  /** Bytes of a state (UTF-8). */
  stateBytes: 64 * 1024,
  nameLength: 256,
  descriptionLength: 5000,
  /** Named views a listing returns. */
  listed: 1000,
};

/** Pages are route names of the UI: `runs`, `compare`, `charts`, ... */
const PAGE_PATTERN = /^[a-z][a-z0-9-]{0,63}$/;

export const VIEW_ID_LENGTH = 10;

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

export interface SavedViewRecord {
  id: string;
  page: string;
  experimentId: number | null;
  state: string;
  /** Null for a short link. */
  name: string | null;
  description: string;
  owner: string;
  shared: boolean;
  creationTime: number;
  lastUpdateTime: number;
}

export interface NewView {
  page: string;
  experimentId: number | null;
  state: string;
  name: string | null;
  description: string;
  shared: boolean;
}

/** `VIEW_ID_LENGTH` base62 digits of the bytes (each byte taken mod 62: a slight bias, no matter for ids). */
function base62(bytes: Uint8Array): string {
  return Array.from(bytes.subarray(0, VIEW_ID_LENGTH), (byte) => BASE62[byte % 62]).join('');
}

/**
 * The id of a short link: a hash of page, experiment and state (`attempt` > 0 after the unlikely
 * event that the id is taken by another view).
 */
export function linkViewId(view: Pick<NewView, 'page' | 'experimentId' | 'state'>, attempt = 0): string {
  const hash = createHash('sha256')
    .update(JSON.stringify([view.page, view.experimentId, view.state, attempt]))
    .digest();
  return base62(hash);
}

export function randomViewId(): string {
  return base62(randomBytes(VIEW_ID_LENGTH));
}

/** Whether an id can be a view's (anything else is not found without a lookup). */
export function isViewId(id: string): boolean {
  return id.length === VIEW_ID_LENGTH && [...id].every((c) => BASE62.includes(c));
}

/** Checks a view to save; the name and description trimmed, an empty name meaning a short link. */
export function validateNewView(input: {
  page: string;
  state: string;
  name?: string;
  description?: string;
  shared?: boolean;
}): Omit<NewView, 'experimentId'> {
  if (!PAGE_PATTERN.test(input.page)) {
    throw MlflowError.invalidParameter(
      `Invalid page '${input.page}': a page name of lowercase letters, digits and '-' (e.g. 'runs').`,
    );
  }
  const bytes = Buffer.byteLength(input.state, 'utf8');
  if (bytes > VIEW_LIMITS.stateBytes) {
    throw MlflowError.invalidParameter(
      `The view's state is ${bytes} bytes; at most ${VIEW_LIMITS.stateBytes} bytes are stored.`,
    );
  }
  const name = input.name?.trim() || null;
  if (name !== null && name.length > VIEW_LIMITS.nameLength) {
    throw MlflowError.invalidParameter(`A view name has at most ${VIEW_LIMITS.nameLength} characters.`);
  }
  const description = input.description?.trim() ?? '';
  if (description.length > VIEW_LIMITS.descriptionLength) {
    throw MlflowError.invalidParameter(
      `A view description has at most ${VIEW_LIMITS.descriptionLength} characters.`,
    );
  }
  if (name === null && (description !== '' || input.shared)) {
    throw MlflowError.invalidParameter(
      'Only named views have a description or are shared (a view without a name is a short link).',
    );
  }
  return { page: input.page, state: input.state, name, description, shared: name !== null && !!input.shared };
}

/** Who may read a view: anyone its short link or shared view, only its owner a personal one. */
export function canRead(view: SavedViewRecord, user: string): boolean {
  return view.name === null || view.shared || view.owner === user;
}

/** Who may delete a view: the owner of a named one (a short link may be anyone's bookmark). */
export function canDelete(view: SavedViewRecord, user: string): boolean {
  return view.name !== null && view.owner === user;
}
