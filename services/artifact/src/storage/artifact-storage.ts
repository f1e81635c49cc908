import { ConfigError, MlflowError } from '@mast/common';
import {
  type ArtifactLocation,
  parseArtifactLocation,
  parseStorageRoot,
  pathWithin,
  type StorageRoot,
  storageRootUri,
} from '../domain/artifact-uri.js';
import { LocalRootError, LocalStore, prepareLocalRoot } from './local-store.js';
import { S3Connection, type S3ConnectionOptions } from './s3-connection.js';
import { S3Store } from './s3-store.js';
import type { ArtifactStore } from './store.js';

export interface ArtifactStorageOptions {
  /** The proxy's root (`--artifacts-destination`): a directory, `file:///dir` or `s3://bucket/prefix`. */
  destination: string;
  /**
   * Direct roots (`s3://…`, `file:///…`, `/abs`) whose runs' artifacts may be listed and downloaded,
   * besides the destination itself (always allowed).
   */
  allowedRoots: string[];
  s3: S3ConnectionOptions & { partSize: number };
  /** Relative local paths resolve against it (default: the process's working directory). */
  cwd?: string;
}

/** A store and a path inside it. */
export interface StoreLocation {
  store: ArtifactStore;
  path: string;
}

function parseRoot(uri: string, what: string, cwd: string): StorageRoot {
  try {
    return parseStorageRoot(uri, cwd);
  } catch (error) {
    throw new ConfigError(`Invalid ${what} '${uri}': ${(error as Error).message}`);
  }
}

/**
 * Creates a local destination directory and checks that it can be written (nothing for S3, whose
 * bucket `/ready` checks). One that cannot be used is a ConfigError naming MAST_ARTIFACTS_DESTINATION,
 * or the flag `sources` says set it, with the system's reason.
 */
async function prepareLocalDestination(
  root: StorageRoot,
  sources: Record<string, string> = {},
): Promise<void> {
  if (root.kind !== 'local') return;
  try {
    await prepareLocalRoot(root.path);
  } catch (error) {
    if (!(error instanceof LocalRootError)) throw error;
    const variable = 'MAST_ARTIFACTS_DESTINATION';
    throw ConfigError.of([{ variable, source: sources[variable] ?? variable, message: error.message }]);
  }
}

/**
 * The artifact service's storage: the proxy destination, plus the direct roots it may serve, each a
 * store opened on first use. One S3 connection (one keep-alive pool) is shared by every S3 root.
 */
export class ArtifactStorage {
  private readonly stores = new Map<string, Promise<ArtifactStore>>();
  private connection: S3Connection | undefined;
  private destinationStore!: ArtifactStore;

  private constructor(
    private readonly destinationRoot: StorageRoot,
    private readonly allowedRoots: StorageRoot[],
    private readonly options: ArtifactStorageOptions,
  ) {}

  /**
   * Prepares the destination `--artifacts-destination` names before anything else is opened: creates
   * a local directory and checks that it can be written (see `open`). `sources`: variable -> the flag
   * that set it, to name the flag in the error.
   */
  static async prepareDestination(
    destination: string,
    options: { cwd?: string; sources?: Record<string, string> } = {},
  ): Promise<void> {
    const root = parseRoot(destination, 'artifacts destination', options.cwd ?? process.cwd());
    await prepareLocalDestination(root, options.sources);
  }

  /**
   * Opens the destination (creating a local directory); configuration mistakes, and a local
   * destination that cannot be created or written, are ConfigErrors.
   */
  static async open(options: ArtifactStorageOptions): Promise<ArtifactStorage> {
    const cwd = options.cwd ?? process.cwd();
    const destinationRoot = parseRoot(options.destination, 'artifacts destination', cwd);
    const allowed = options.allowedRoots.map((uri) => parseRoot(uri, 'allowed artifact root', cwd));
    await prepareLocalDestination(destinationRoot);
    const storage = new ArtifactStorage(destinationRoot, [destinationRoot, ...allowed], options);
    storage.destinationStore = await storage.storeFor(destinationRoot);
    return storage;
  }

  /** The proxy's root store (`/api/2.0/mlflow-artifacts/artifacts/<path>`). */
  get destination(): ArtifactStore {
    return this.destinationStore;
  }

  /** Where the proxy keeps its files, as a URI. */
  get destinationUri(): string {
    return storageRootUri(this.destinationRoot);
  }

  /**
   * The store and path behind a direct artifact location (a run's `s3://…` or local root), or a
   * PERMISSION_DENIED error when no allowed root contains it.
   */
  async resolveDirect(
    location: Extract<ArtifactLocation, { kind: 'local' | 's3' }>,
    uri: string,
  ): Promise<StoreLocation> {
    for (const root of this.allowedRoots) {
      const path = pathWithin(root, location);
      if (path !== undefined) return { store: await this.storeFor(root), path };
    }
    throw new MlflowError(
      'PERMISSION_DENIED',
      `Artifact location '${uri}' is outside the roots this server may serve (the artifacts destination and MAST_ARTIFACT_ALLOWED_ROOTS).`,
    );
  }

  /** Parses a URI (see parseArtifactLocation) relative to the configured working directory. */
  parse(uri: string): ArtifactLocation {
    return parseArtifactLocation(uri, this.options.cwd ?? process.cwd());
  }

  private storeFor(root: StorageRoot): Promise<ArtifactStore> {
    const key = storageRootUri(root);
    let store = this.stores.get(key);
    if (store === undefined) {
      store = this.createStore(root);
      this.stores.set(key, store);
      store.catch(() => this.stores.delete(key));
    }
    return store;
  }

  private async createStore(root: StorageRoot): Promise<ArtifactStore> {
    if (root.kind === 'local') return LocalStore.open(root.path);
    this.connection ??= this.connect();
    return new S3Store(this.connection, {
      bucket: root.bucket,
      prefix: root.key,
      partSize: this.options.s3.partSize,
    });
  }

  private connect(): S3Connection {
    const s3 = this.options.s3;
    if (s3.accessKeyId === undefined || s3.secretAccessKey === undefined) {
      throw new ConfigError(
        'S3 artifact storage needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (presigned URLs need a key pair).',
      );
    }
    try {
      return new S3Connection(s3);
    } catch (error) {
      throw new ConfigError(`Invalid S3 settings: ${(error as Error).message}`);
    }
  }

  /** Readiness: the destination answers. */
  async ping(): Promise<void> {
    await this.destination.ping();
  }

  /** Closes the S3 connection pool. */
  async close(): Promise<void> {
    this.connection?.close();
  }
}
