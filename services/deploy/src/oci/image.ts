import { createHash } from 'node:crypto';
import { OciError } from './errors.js';
import type { LayerDigests } from './layer.js';
import { classifyManifest, MEDIA_TYPES } from './media-types.js';

/** What the builder sets in the image config's `config` (image-spec `config.md`; spec §1.7). */
export interface ImageSettings {
  /** Replaces the base's `Entrypoint`; the base's `Cmd` is then dropped unless `cmd` is given (Docker's rule). */
  entrypoint?: string[];
  cmd?: string[];
  /** Merged into the base's `Env`: a name already there keeps its place and takes the new value. */
  env: Record<string, string>;
  /** Merged into the base's `Labels`. */
  labels: Record<string, string>;
  /** Added to `ExposedPorts`, e.g. `8080/tcp`. */
  exposedPorts: string[];
  /** RFC 3339; the config's `created` and the new history entry's (fixed for reproducibility). */
  created: string;
  /** The history entry of the appended layer (`created_by`, `comment`). */
  history: { createdBy: string; comment: string };
}

/** A single-platform base image: its manifest (JSON and media type) and its config JSON. */
export interface BaseImage {
  mediaType: string;
  manifest: Record<string, unknown>;
  config: Record<string, unknown>;
}

/** The appended image: config and manifest as the exact bytes to push (their sha256 is their digest). */
export interface AssembledImage {
  config: Buffer;
  configDigest: string;
  manifest: Buffer;
  manifestDigest: string;
  mediaType: string;
}

interface ContainerConfig {
  Env?: string[];
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  ExposedPorts?: Record<string, object>;
  Labels?: Record<string, string> | null;
  [field: string]: unknown;
}

function sha256(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

function mergeEnv(base: readonly string[], added: Record<string, string>): string[] {
  const env = [...base];
  for (const [name, value] of Object.entries(added)) {
    const at = env.findIndex((entry) => entry.split('=', 1)[0] === name);
    if (at >= 0) env[at] = `${name}=${value}`;
    else env.push(`${name}=${value}`);
  }
  return env;
}

/**
 * Appends `layer` to `base` as `mutate.Append` does (spec §1.11): deep copies of the base manifest and
 * config (unknown fields survive), the diff_id appended to `rootfs.diff_ids`, one history entry, the
 * settings applied, the layer descriptor appended with the gzip layer type of the base's family (never
 * mixed, spec §1.8), the config descriptor recomputed. `annotations` go on the manifest of an OCI base
 * only: Docker v2 schema 2 manifests have none (the same facts are in the config's labels).
 * Throws OciError `UNSUPPORTED_MEDIA_TYPE` when the base is not a single-platform OCI or Docker manifest.
 */
export function appendLayer(
  base: BaseImage,
  layer: LayerDigests,
  settings: ImageSettings,
  annotations: Record<string, string>,
): AssembledImage {
  const kind = classifyManifest(base.mediaType);
  if (kind?.kind !== 'manifest') {
    throw new OciError('UNSUPPORTED_MEDIA_TYPE', `cannot append a layer to a ${base.mediaType} document`);
  }
  const types = MEDIA_TYPES[kind.family];
  const config = structuredClone(base.config);
  const container = (config.config ?? {}) as ContainerConfig;
  config.config = container;
  config.created = settings.created;
  container.Env = mergeEnv(container.Env ?? [], settings.env);
  if (settings.entrypoint) {
    container.Entrypoint = settings.entrypoint;
    container.Cmd = settings.cmd ?? null;
  } else if (settings.cmd) {
    container.Cmd = settings.cmd;
  }
  if (settings.exposedPorts.length > 0) {
    container.ExposedPorts = { ...container.ExposedPorts };
    for (const port of settings.exposedPorts) container.ExposedPorts[port] = {};
  }
  container.Labels = { ...container.Labels, ...settings.labels };
  const rootfs = (config.rootfs ?? { type: 'layers', diff_ids: [] }) as { type: string; diff_ids: string[] };
  config.rootfs = { ...rootfs, diff_ids: [...rootfs.diff_ids, layer.diffId] };
  const history = Array.isArray(config.history) ? config.history : [];
  config.history = [
    ...history,
    { created: settings.created, created_by: settings.history.createdBy, comment: settings.history.comment },
  ];
  const configBytes = Buffer.from(JSON.stringify(config));
  const configDigest = sha256(configBytes);

  const manifest = structuredClone(base.manifest);
  const baseConfigDescriptor = (manifest.config ?? {}) as Record<string, unknown>;
  manifest.config = {
    ...baseConfigDescriptor,
    mediaType: baseConfigDescriptor.mediaType ?? types.config,
    digest: configDigest,
    size: configBytes.length,
  };
  const layers = Array.isArray(manifest.layers) ? manifest.layers : [];
  manifest.layers = [...layers, { mediaType: types.layerGzip, digest: layer.digest, size: layer.size }];
  if (kind.family === 'oci') {
    manifest.annotations = {
      ...(manifest.annotations as Record<string, string> | undefined),
      ...annotations,
    };
  }
  const manifestBytes = Buffer.from(JSON.stringify(manifest));
  return {
    config: configBytes,
    configDigest,
    manifest: manifestBytes,
    manifestDigest: sha256(manifestBytes),
    mediaType: base.mediaType,
  };
}
