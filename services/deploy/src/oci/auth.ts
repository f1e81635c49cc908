import { OciError } from './errors.js';

/** A user name and password (or token) for a registry's Basic auth or its token server. */
export interface RegistryCredentials {
  username: string;
  password: string;
}

/**
 * A `kubernetes.io/dockerconfigjson` secret's `.dockerconfigjson` (the `~/.docker/config.json` format):
 * `{"auths": {"<registry>": {"auth": base64("user:password")} | {"username", "password"}}}`.
 */
export interface DockerConfigJson {
  auths?: Record<string, { auth?: string; username?: string; password?: string }>;
}

/** The keys Docker Hub's credentials are stored under (docker login writes the first). */
const DOCKER_HUB_KEYS = [
  'https://index.docker.io/v1/',
  'index.docker.io',
  'docker.io',
  'registry-1.docker.io',
];

/** `https://host:port/v1/` → `host:port`: config keys may carry a scheme and a path. */
function hostOfKey(key: string): string {
  return key.replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '');
}

/**
 * The credentials a dockerconfigjson document holds for `registry` (a host[:port]), or undefined.
 * Keys match by host, with or without scheme and path; Docker Hub's aliases match each other.
 * Throws OciError `INVALID_CREDENTIALS` when the document is not JSON or an `auth` is not base64 `user:pass`.
 */
export function credentialsFromDockerConfig(
  document: string | DockerConfigJson,
  registry: string,
): RegistryCredentials | undefined {
  let config: DockerConfigJson;
  try {
    config = typeof document === 'string' ? (JSON.parse(document) as DockerConfigJson) : document;
  } catch {
    throw new OciError('INVALID_CREDENTIALS', 'the dockerconfigjson document is not valid JSON');
  }
  const wanted = DOCKER_HUB_KEYS.includes(registry) ? DOCKER_HUB_KEYS.map(hostOfKey) : [registry];
  const entry = Object.entries(config.auths ?? {}).find(([key]) => wanted.includes(hostOfKey(key)))?.[1];
  if (!entry) return undefined;
  if (entry.username !== undefined && entry.password !== undefined) {
    return { username: entry.username, password: entry.password };
  }
  if (entry.auth === undefined) return undefined;
  const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) {
    throw new OciError(
      'INVALID_CREDENTIALS',
      `the dockerconfigjson auth for ${registry} is not base64 "user:password"`,
    );
  }
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** A parsed `WWW-Authenticate` challenge: scheme (lower case) and its parameters. */
export interface AuthChallenge {
  scheme: string;
  params: Record<string, string>;
}

/**
 * Parses `Bearer realm="https://auth/token",service="reg",scope="repository:a:pull"` or `Basic realm="x"`
 * (RFC 7235 auth-params; quoted values may contain commas). Returns undefined for an empty header.
 */
export function parseChallenge(header: string | null): AuthChallenge | undefined {
  if (!header) return undefined;
  const match = /^\s*([A-Za-z]+)\s*(.*)$/.exec(header);
  if (!match) return undefined;
  const params: Record<string, string> = {};
  const pairs = /([A-Za-z_]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g;
  for (const pair of match[2]!.matchAll(pairs)) {
    params[pair[1]!.toLowerCase()] = pair[2] !== undefined ? pair[2].replace(/\\(.)/g, '$1') : pair[3]!;
  }
  return { scheme: match[1]!.toLowerCase(), params };
}

/** `Basic base64(user:password)`. */
export function basicAuthorization(credentials: RegistryCredentials): string {
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
}
