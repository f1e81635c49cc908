import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentialsFromDockerConfig, type DockerConfigJson } from './auth.js';
import type { BuildCache, CachedLayer, ResolvedBase } from './cache.js';
import { type BlobOutcome, type BlobSource, RegistryClient, type RegistryClientOptions } from './client.js';
import { OciError } from './errors.js';
import { appendLayer } from './image.js';
import { type LayerDigests, layerDiffId, listLayerEntries, writeLayer } from './layer.js';
import { classifyManifest } from './media-types.js';
import {
  DEFAULT_PLATFORM,
  formatPlatform,
  type IndexEntry,
  type Platform,
  parsePlatform,
  selectPlatform,
} from './platform.js';
import { formatReference, type ImageReference, parseReference } from './reference.js';
import { MODEL_DIR } from './serving.js';

/**
 * The model's identity, written as image config labels (all images) and as manifest annotations (OCI
 * images). Label keys: `io.mast.model.name`, `io.mast.model.version`, `io.mast.model.run-id`,
 * `io.mast.model.flavor`, `io.mast.model.source` (the model version's artifact URI). Annotations: the
 * same keys plus `org.opencontainers.image.title` (name), `.version` (version), `.created`,
 * `.base.name` (the base reference as given) and `.base.digest` (the digest of the platform manifest
 * the layer was appended to, not of an index), as `crane append --set-base-image-annotations` writes.
 */
export interface ModelLabels {
  name: string;
  version: string;
  runId?: string;
  flavor?: string;
  source?: string;
}

export interface BuildModelImageOptions {
  /** The base image reference (tag or digest; an index is resolved to `platform`). */
  base: string;
  /** Where to push: `host/repository[:tag]`; the manifest is pushed under the tag, else by digest. */
  target: string;
  /** The model directory (an MLflow model: `MLmodel` and its files), copied to /opt/ml/model. */
  modelDir: string;
  labels: ModelLabels;
  /** Merged into the base's `Env`. */
  env?: Record<string, string>;
  /** Replaces the base's entry point (the base's `Cmd` is dropped unless `cmd` is given). */
  entrypoint?: string[];
  cmd?: string[];
  /** Added to the base's `ExposedPorts` (`8080/tcp`). */
  exposedPorts?: string[];
  /** A `kubernetes.io/dockerconfigjson` document (`.dockerconfigjson`), for both registries. */
  auth?: string | DockerConfigJson;
  /** `os/architecture[/variant]` picked from a multi-arch base; default linux/amd64. */
  platform?: string | Platform;
  /** Registries spoken to over plain HTTP (`host:port`). */
  insecureRegistries?: readonly string[];
  /** See RegistryClientOptions.chunkSize. */
  chunkSize?: number;
  /** Layer and base cache; without it every build compresses the model again (in a temporary dir). */
  cache?: BuildCache;
  /** The image's `created` and every file's mtime (SOURCE_DATE_EPOCH); default the Unix epoch. */
  created?: Date;
  /** Observes every HTTP exchange with a registry (request counting). */
  onRequest?: RegistryClientOptions['onRequest'];
}

export interface BuiltImage {
  /** `host/repository@sha256:…`: what a pod spec should name (spec Appendix A.1). */
  reference: string;
  digest: string;
  mediaType: string;
  /** Bytes of the manifest. */
  size: number;
  /** Bytes uploaded (blobs and manifest); 0 for a rebuild of an unchanged version. */
  pushedBytes: number;
  /** Blobs the target already had or got by cross-repository mount. */
  reusedBlobs: number;
  /** The platform manifest of the base the layer was appended to. */
  baseDigest: string;
}

const MAX_INDEX_DEPTH = 4;

/** Label and annotation values of a model (see ModelLabels). */
export function modelLabels(labels: ModelLabels): Record<string, string> {
  const entries: Array<[string, string | undefined]> = [
    ['io.mast.model.name', labels.name],
    ['io.mast.model.version', labels.version],
    ['io.mast.model.run-id', labels.runId],
    ['io.mast.model.flavor', labels.flavor],
    ['io.mast.model.source', labels.source],
  ];
  return Object.fromEntries(entries.filter((entry): entry is [string, string] => entry[1] !== undefined));
}

/**
 * Resolves `ref` to a single-platform manifest and its config (spec §1.10): GET the reference; an index
 * picks `platform` (recursing into nested indexes); the config blob is fetched and parsed. With a cache,
 * a base already resolved costs one HEAD (tag → digest). Throws OciError: `MANIFEST_UNKNOWN` /
 * `NAME_UNKNOWN` from the registry, `PLATFORM_NOT_FOUND`, `UNSUPPORTED_MEDIA_TYPE` (schema 1, artifacts).
 */
async function resolveBase(
  client: RegistryClient,
  ref: ImageReference,
  platform: Platform,
  cache: BuildCache | undefined,
): Promise<ResolvedBase> {
  const platformKey = formatPlatform(platform);
  const topDigest =
    ref.digest ?? (cache ? await client.headManifest(ref.repository, ref.reference) : undefined);
  const cached = topDigest ? cache?.base(topDigest, platformKey) : undefined;
  if (cached) return cached;
  let fetched = await client.getManifest(ref.repository, ref.reference);
  for (let depth = 0; ; depth++) {
    const kind = classifyManifest(fetched.mediaType);
    if (!kind) {
      throw new OciError(
        'UNSUPPORTED_MEDIA_TYPE',
        `base image ${formatReference(ref)} is a ${fetched.mediaType}, not an OCI or Docker v2 image`,
      );
    }
    if (kind.kind === 'manifest') break;
    if (depth >= MAX_INDEX_DEPTH) {
      throw new OciError(
        'UNSUPPORTED_MEDIA_TYPE',
        `base image ${formatReference(ref)} nests indexes too deeply`,
      );
    }
    const entries = (fetched.json.manifests ?? []) as IndexEntry[];
    const runnable = entries.filter((entry) => classifyManifest(entry.mediaType) !== undefined);
    const child = selectPlatform(runnable, platform, formatReference(ref));
    fetched = await client.getManifest(ref.repository, child.digest);
  }
  const configDigest = (fetched.json.config as { digest?: string } | undefined)?.digest;
  if (!configDigest) {
    throw new OciError(
      'MANIFEST_INVALID',
      `base image ${formatReference(ref)} has a manifest without a config`,
    );
  }
  const config = JSON.parse((await client.getBlob(ref.repository, configDigest)).toString('utf8'));
  const base: ResolvedBase = {
    digest: fetched.digest,
    mediaType: fetched.mediaType,
    manifest: fetched.json,
    config,
  };
  if (topDigest) cache?.addBase(topDigest, platformKey, base);
  return base;
}

/**
 * The model layer: its entries are always listed and, with a cache, hashed (tar only) to find a stored
 * blob by diff_id; otherwise the layer is written and compressed once into the cache or `scratch`.
 */
async function modelLayer(
  modelDir: string,
  mtime: Date,
  cache: BuildCache | undefined,
  scratch: string,
): Promise<CachedLayer> {
  const entries = await listLayerEntries(modelDir, MODEL_DIR);
  if (!cache) {
    const path = join(scratch, 'layer.tar.gz');
    return { ...(await writeLayer(entries, mtime, path)), path };
  }
  const hit = await cache.layer(await layerDiffId(entries, mtime));
  if (hit) return hit;
  const path = await cache.scratchPath();
  let digests: LayerDigests;
  try {
    digests = await writeLayer(entries, mtime, path);
  } catch (error) {
    await rm(path, { force: true });
    throw error;
  }
  return cache.addLayer(path, digests);
}

/**
 * Builds a model image without a Docker daemon (issue 12): resolves the base (index → `platform`),
 * writes the model directory as one reproducible gzip layer at /opt/ml/model (spec §1.12), appends it
 * with the settings and labels to the base's config and manifest in the base's media-type family
 * (spec §1.8, §1.11), and pushes to `target`: base layers by HEAD, else cross-repository mount when the
 * base is in the same registry, else copied from the base registry; the model layer and config by HEAD,
 * else uploaded (monolithic or chunked by `chunkSize`); the manifest under the target tag unless the tag
 * already names this digest. Same inputs give the same digest; with the same `cache` a rebuild of an
 * unchanged version makes HEAD requests only.
 * Throws OciError (see its codes) with a one-line message naming the registry, the request and the
 * registry's error code and message.
 */
export async function buildModelImage(options: BuildModelImageOptions): Promise<BuiltImage> {
  const baseRef = parseReference(options.base);
  const targetRef = parseReference(options.target);
  if (targetRef.digest) {
    throw new OciError(
      'INVALID_REFERENCE',
      `target ${options.target} names a digest; give a repository or a tag`,
    );
  }
  const platform =
    typeof options.platform === 'string'
      ? parsePlatform(options.platform)
      : (options.platform ?? DEFAULT_PLATFORM);
  const created = options.created ?? new Date(0);
  const clients = new Map<string, RegistryClient>();
  const clientFor = (registry: string): RegistryClient => {
    let client = clients.get(registry);
    if (!client) {
      client = new RegistryClient({
        registry,
        insecure: options.insecureRegistries?.includes(registry) ?? false,
        credentials:
          options.auth === undefined ? undefined : credentialsFromDockerConfig(options.auth, registry),
        chunkSize: options.chunkSize,
        onRequest: options.onRequest,
      });
      clients.set(registry, client);
    }
    return client;
  };
  const baseClient = clientFor(baseRef.registry);
  const target = clientFor(targetRef.registry);
  const sameRegistry = baseRef.registry === targetRef.registry;
  const scratch = await mkdtemp(join(tmpdir(), 'mast-oci-'));
  try {
    const base = await resolveBase(baseClient, baseRef, platform, options.cache);
    const layer = await modelLayer(options.modelDir, created, options.cache, scratch);
    const labels = modelLabels(options.labels);
    const image = appendLayer(
      base,
      layer,
      {
        entrypoint: options.entrypoint,
        cmd: options.cmd,
        env: options.env ?? {},
        labels,
        exposedPorts: options.exposedPorts ?? [],
        created: created.toISOString(),
        history: {
          createdBy: `mast deploy: model ${options.labels.name} v${options.labels.version}`,
          comment: `model directory at ${MODEL_DIR}`,
        },
      },
      {
        ...labels,
        'org.opencontainers.image.title': options.labels.name,
        'org.opencontainers.image.version': options.labels.version,
        'org.opencontainers.image.created': created.toISOString(),
        'org.opencontainers.image.base.name': formatReference(baseRef),
        'org.opencontainers.image.base.digest': base.digest,
      },
    );

    let pushedBytes = 0;
    let reusedBlobs = 0;
    const count = (outcome: BlobOutcome, size: number) => {
      if (outcome === 'uploaded') pushedBytes += size;
      else reusedBlobs++;
    };
    const repository = targetRef.repository;
    for (const descriptor of (base.manifest.layers ?? []) as Array<{ digest: string; size: number }>) {
      if (await target.hasBlob(repository, descriptor.digest)) count('exists', descriptor.size);
      else if (sameRegistry && (await target.mountBlob(repository, descriptor.digest, baseRef.repository))) {
        count('mounted', descriptor.size);
      } else {
        const path = join(scratch, descriptor.digest.replace(':', '-'));
        await baseClient.downloadBlob(baseRef.repository, descriptor.digest, path);
        await target.uploadBlob(repository, { ...descriptor, data: { path } });
        count('uploaded', descriptor.size);
        await rm(path, { force: true });
      }
    }
    count(
      await target.pushBlob(repository, {
        digest: layer.digest,
        size: layer.size,
        data: { path: layer.path },
      }),
      layer.size,
    );
    const config: BlobSource = { digest: image.configDigest, size: image.config.length, data: image.config };
    count(await target.pushBlob(repository, config), config.size);

    const reference = targetRef.tag ?? image.manifestDigest;
    const current = await target.headManifest(repository, reference, true);
    if (current !== image.manifestDigest) {
      await target.putManifest(repository, reference, image.mediaType, image.manifest);
      pushedBytes += image.manifest.length;
    }
    return {
      reference: `${targetRef.registry}/${repository}@${image.manifestDigest}`,
      digest: image.manifestDigest,
      mediaType: image.mediaType,
      size: image.manifest.length,
      pushedBytes,
      reusedBlobs,
      baseDigest: base.digest,
    };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
