import { OciError } from './errors.js';

/** Repository name and tag grammar of the distribution spec (deploy spec §1.1). */
const NAME = /^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*$/;
const TAG = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;

/** Docker Hub's names: `docker.io/...` is served by this API host, single names live under `library/`. */
const DOCKER_HUB = 'docker.io';
const DOCKER_HUB_API_HOST = 'registry-1.docker.io';

/**
 * An image reference `host[:port]/repository[:tag][@sha256:…]`. `registry` is the host the API is served
 * from; `reference` is the digest when there is one (it wins over the tag, as in docker and crane), else
 * the tag (`latest` when neither is given).
 */
export interface ImageReference {
  registry: string;
  repository: string;
  tag?: string;
  digest?: string;
  reference: string;
}

/**
 * Parses an image reference the way docker does: the first component is a registry host when it has a
 * `.` or `:` or is `localhost`, otherwise the image is on Docker Hub (`python:3.11` →
 * `registry-1.docker.io/library/python:3.11`). Throws OciError `INVALID_REFERENCE` naming the rule broken.
 */
export function parseReference(text: string): ImageReference {
  const invalid = (why: string) =>
    new OciError('INVALID_REFERENCE', `invalid image reference '${text}': ${why}`);
  let rest = text.trim();
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw invalid('the digest must be sha256:<64 lowercase hex>');
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw invalid('the tag must match [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}');
  }
  const slash = rest.indexOf('/');
  const first = slash >= 0 ? rest.slice(0, slash) : '';
  let registry: string;
  let repository: string;
  if (first && (first.includes('.') || first.includes(':') || first === 'localhost')) {
    registry = first;
    repository = rest.slice(slash + 1);
  } else {
    registry = DOCKER_HUB;
    repository = rest.includes('/') ? rest : `library/${rest}`;
  }
  if (registry === DOCKER_HUB) registry = DOCKER_HUB_API_HOST;
  if (!NAME.test(repository)) throw invalid(`the repository name '${repository}' is not a valid OCI name`);
  return { registry, repository, tag, digest, reference: digest ?? tag ?? 'latest' };
}

/** `host/repository:tag` or `host/repository@digest`, for messages and annotations. */
export function formatReference(ref: ImageReference): string {
  const base = `${ref.registry}/${ref.repository}`;
  return ref.digest ? `${base}@${ref.digest}` : `${base}:${ref.tag ?? 'latest'}`;
}
