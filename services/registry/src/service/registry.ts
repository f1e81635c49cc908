import {
  ALL_STAGES,
  canonicalStage,
  inTransaction,
  isUniqueViolation,
  MlflowError,
  validateAliasName,
} from '@mast/common';
import { artifactDownloadPath, runFileDownloadPath } from '../domain/artifact-location.js';
import { aliasNotFound, modelAlreadyExists, modelNotFound, versionNotFound } from '../domain/errors.js';
import { parseModelUri } from '../domain/model-uri.js';
import {
  type HistoryRecord,
  IS_PROMPT_TAG,
  type KeyValue,
  lastValuePerKey,
  type ModelVersionRecord,
  type RegisteredModelRecord,
} from '../domain/records.js';
import type { FilterNode, OrderByTerm } from '../domain/search.js';
import { searchesPrompts } from '../domain/search.js';
import { isLocalSource, validateVersionSource } from '../domain/source.js';
import { checkArchiveExisting } from '../domain/stages.js';
import { parseVersion, validateModelName, validateRegistryTag } from '../domain/validation.js';
import { appendHistory, listHistory } from '../store/history-store.js';
import {
  deleteAlias,
  deleteAliasesOfVersion,
  deleteModel,
  deleteModelTag,
  findAlias,
  findModel,
  findModelsByNames,
  hydrateModels,
  insertModel,
  renameModel,
  searchModels,
  setAlias,
  updateModel,
  upsertModelTag,
} from '../store/model-store.js';
import type { ModelRow, RegistryExecutor } from '../store/schema.js';
import { latestVersionRows } from '../store/version-rows.js';
import {
  archiveOthersInStage,
  deleteVersionTag,
  findVersion,
  hydrateVersions,
  insertVersion,
  listVersions,
  lockModelAndVersion,
  searchVersions,
  setStage,
  softDeleteVersion,
  takeNextVersion,
  touchModel,
  updateVersion,
  upsertVersionTag,
  versionsOfRuns,
} from '../store/version-store.js';
import { EventBatch } from './events.js';
import { type LoggedModels, MODEL_VERSIONS_TAG, withModelVersion } from './logged-models.js';
import type { Runs } from './runs.js';

export interface RegistryDependencies {
  db: RegistryExecutor;
  /** Milliseconds since the epoch; injected so tests can pin time. */
  clock?: () => number;
  /** Tracking's logged models (MLflow 3 `models:/<model_id>`), when reachable. */
  loggedModels?: LoggedModels;
  /** Tracking's runs (their artifact roots anchor local version sources), when reachable. */
  runs?: Runs;
  /** MLflow's `MLFLOW_CREATE_MODEL_VERSION_SOURCE_VALIDATION_REGEX`. */
  sourceRegex?: RegExp;
  /** Called after a transaction that appended events committed (the outbox relay's `wake`). */
  onEventsCommitted?: () => void;
  /**
   * Append events to the outbox (default true). False only for the benchmark that measures what the
   * outbox costs a write; a registry without events breaks every consumer.
   */
  publishEvents?: boolean;
  /** Told about best-effort side effects that failed (tagging a logged model in tracking). */
  onWarning?: (message: string, error: unknown) => void;
}

/** Who made a change and why, for events and history. */
export interface Actor {
  actor?: string;
  reason?: string;
}

export interface SearchInput {
  filter: FilterNode | undefined;
  orderBy: OrderByTerm[];
  maxResults: number;
  offset: number;
}

/** What a `models:/` URI resolves to. */
export interface ResolvedModelUri {
  /** The registry version named (absent for `models:/<model_id>`). */
  version?: ModelVersionRecord;
  /** Where the files are: the version's download URI, or the logged model's artifact location. */
  artifactUri?: string;
  /** The logged model id of `models:/<model_id>` (or of the version, when it was created from one). */
  modelId?: string;
}

/**
 * Every registry command, once, for REST and GraphQL (MLflow's model-registry semantics, spec §1.3).
 * Each write runs in one transaction that also appends its events to `registry.outbox` (published to
 * `registry-events` by the relay) and, for stage and alias changes, its history rows.
 */
export class RegistryService {
  private readonly db: RegistryExecutor;
  private readonly clock: () => number;

  constructor(private readonly deps: RegistryDependencies) {
    this.db = deps.db;
    this.clock = deps.clock ?? Date.now;
  }

  /** Runs a write with its events: appended in its transaction, the relay woken after the commit. */
  private async write<T>(work: (tx: RegistryExecutor, events: EventBatch) => Promise<T>): Promise<T> {
    let appended = false;
    const result = await inTransaction(this.db, async (tx) => {
      const events = new EventBatch();
      const value = await work(tx, events);
      if (this.deps.publishEvents === false) return value;
      await events.flush(tx);
      appended = events.size > 0;
      return value;
    });
    if (appended) this.deps.onEventsCommitted?.();
    return result;
  }

  private async requireModel(db: RegistryExecutor, name: string, lock = false): Promise<ModelRow> {
    validateModelName(name);
    const model = await findModel(db, name, lock);
    if (!model) throw modelNotFound(name);
    return model;
  }

  private async requireVersion(db: RegistryExecutor, model: ModelRow, version: string, lock = false) {
    const number = parseVersion(version);
    const row = await findVersion(db, model.id, number, lock);
    if (!row) throw versionNotFound(model.name, version);
    return row;
  }

  private async modelRecord(db: RegistryExecutor, row: ModelRow): Promise<RegisteredModelRecord> {
    const [record] = await hydrateModels(db, [row]);
    return record;
  }

  // ------------------------------------------------------------------------------------------------------
  // Registered models
  // ------------------------------------------------------------------------------------------------------

  async createModel(
    input: { name: string; tags: KeyValue[]; description?: string },
    who: Actor = {},
  ): Promise<RegisteredModelRecord> {
    validateModelName(input.name);
    for (const tag of input.tags) validateRegistryTag(tag.key, tag.value);
    const tags = lastValuePerKey(input.tags);
    try {
      return await this.write(async (tx, events) => {
        events.prompt = tags.some((tag) => tag.key === IS_PROMPT_TAG && tag.value === 'true');
        const row = await insertModel(tx, {
          name: input.name,
          description: input.description || null,
          tags,
          now: this.clock(),
        });
        events.add('REGISTERED_MODEL_CREATED', {
          name: input.name,
          description: input.description || undefined,
          tags: tags.length > 0 ? tags : undefined,
          actor: who.actor,
        });
        return this.modelRecord(tx, row);
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw modelAlreadyExists(input.name);
      throw error;
    }
  }

  async getModel(name: string): Promise<RegisteredModelRecord> {
    return this.modelRecord(this.db, await this.requireModel(this.db, name));
  }

  /** Models by name, in no particular order; unknown names are skipped (GraphQL batches). */
  async getModels(names: string[]): Promise<RegisteredModelRecord[]> {
    return hydrateModels(this.db, await findModelsByNames(this.db, names));
  }

  async renameModel(name: string, newName: string, who: Actor = {}): Promise<RegisteredModelRecord> {
    validateModelName(newName, 'new_name');
    try {
      return await this.write(async (tx, events) => {
        const model = await this.requireModel(tx, name, true);
        events.prompt = model.is_prompt;
        const now = this.clock();
        await renameModel(tx, model.id, newName, now);
        events.add('REGISTERED_MODEL_RENAMED', { old_name: name, new_name: newName, actor: who.actor });
        return this.modelRecord(tx, { ...model, name: newName, last_updated_time: now });
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw modelAlreadyExists(newName);
      throw error;
    }
  }

  async updateModel(name: string, description: string | undefined): Promise<RegisteredModelRecord> {
    return inTransaction(this.db, async (tx) => {
      const model = await this.requireModel(tx, name, true);
      const now = this.clock();
      await updateModel(tx, model.id, { description: description ?? null, now });
      return this.modelRecord(tx, { ...model, description: description ?? null, last_updated_time: now });
    });
  }

  async deleteModel(name: string, who: Actor = {}): Promise<void> {
    await this.write(async (tx, events) => {
      const model = await this.requireModel(tx, name, true);
      events.prompt = model.is_prompt;
      await deleteModel(tx, model.id);
      events.add('REGISTERED_MODEL_DELETED', { name, actor: who.actor });
    });
  }

  async searchModels(search: SearchInput): Promise<{ models: RegisteredModelRecord[]; hasMore: boolean }> {
    return searchModels(this.db, { ...search, includePrompts: searchesPrompts(search.filter) });
  }

  /** The newest live version in each requested stage (all four when none), MLflow's order. */
  async getLatestVersions(name: string, stages: string[]): Promise<ModelVersionRecord[]> {
    const model = await this.requireModel(this.db, name);
    const wanted = new Set<string>((stages.length === 0 ? [...ALL_STAGES] : stages).map(canonicalStage));
    const rows = (await latestVersionRows(this.db, [model.id])).filter((row) =>
      wanted.has(row.current_stage),
    );
    return hydrateVersions(this.db, rows);
  }

  async setModelTag(name: string, key: string, value: string, who: Actor = {}): Promise<void> {
    validateRegistryTag(key, value);
    await this.write(async (tx, events) => {
      const model = await this.requireModel(tx, name);
      events.prompt = model.is_prompt;
      await upsertModelTag(tx, model.id, { key, value });
      events.add('REGISTERED_MODEL_TAG_SET', { name, key, value, actor: who.actor });
    });
  }

  /** Deleting a tag that is not set is a no-op (no event); the model must exist. */
  async deleteModelTag(name: string, key: string, who: Actor = {}): Promise<void> {
    await this.write(async (tx, events) => {
      const model = await this.requireModel(tx, name);
      events.prompt = model.is_prompt;
      if (await deleteModelTag(tx, model.id, key)) {
        events.add('REGISTERED_MODEL_TAG_DELETED', { name, key, actor: who.actor });
      }
    });
  }

  // ------------------------------------------------------------------------------------------------------
  // Aliases
  // ------------------------------------------------------------------------------------------------------

  async setAlias(name: string, alias: string, version: string, who: Actor = {}): Promise<void> {
    validateAliasName(alias);
    await this.write(async (tx, events) => {
      const model = await this.requireModel(tx, name, true);
      events.prompt = model.is_prompt;
      const row = await this.requireVersion(tx, model, version);
      const previous = await setAlias(tx, model.id, alias, row.version);
      await appendHistory(
        tx,
        model.id,
        [
          {
            kind: 'ALIAS_SET',
            version: row.version,
            from: previous === undefined ? null : String(previous),
            to: String(row.version),
            alias,
            actor: who.actor,
            reason: who.reason,
          },
        ],
        this.clock(),
      );
      events.add('MODEL_ALIAS_SET', {
        name,
        alias,
        version: String(row.version),
        previous_version: previous === undefined ? undefined : String(previous),
        actor: who.actor,
      });
    });
  }

  /** Deleting an alias that is not set is a no-op (no event); the model must exist. */
  async deleteAlias(name: string, alias: string, who: Actor = {}): Promise<void> {
    validateAliasName(alias);
    await this.write(async (tx, events) => {
      const model = await this.requireModel(tx, name, true);
      events.prompt = model.is_prompt;
      const version = await deleteAlias(tx, model.id, alias);
      if (version === undefined) return;
      await appendHistory(
        tx,
        model.id,
        [
          {
            kind: 'ALIAS_DELETED',
            version,
            from: String(version),
            to: null,
            alias,
            actor: who.actor,
            reason: who.reason,
          },
        ],
        this.clock(),
      );
      events.add('MODEL_ALIAS_DELETED', { name, alias, version: String(version), actor: who.actor });
    });
  }

  async getVersionByAlias(name: string, alias: string): Promise<ModelVersionRecord> {
    validateAliasName(alias);
    const model = await this.requireModel(this.db, name);
    const version = await findAlias(this.db, model.id, alias);
    const row = version === undefined ? undefined : await findVersion(this.db, model.id, version);
    if (!row) throw aliasNotFound(alias);
    const [record] = await hydrateVersions(this.db, [row]);
    return record;
  }

  // ------------------------------------------------------------------------------------------------------
  // Model versions
  // ------------------------------------------------------------------------------------------------------

  async createVersion(
    input: {
      name: string;
      source: string;
      runId?: string;
      tags: KeyValue[];
      runLink?: string;
      description?: string;
      modelId?: string;
    },
    who: Actor = {},
  ): Promise<ModelVersionRecord> {
    validateModelName(input.name);
    for (const tag of input.tags) validateRegistryTag(tag.key, tag.value);
    const isPrompt = input.tags.some((tag) => tag.key === IS_PROMPT_TAG);
    validateVersionSource(input.source, {
      isPrompt,
      modelId: input.modelId,
      regex: this.deps.sourceRegex,
      anchorRoot: isPrompt ? undefined : await this.localSourceAnchor(input),
    });
    const tags = lastValuePerKey(input.tags);
    // Where the files are when the source is a models:/ URI (MLflow's storage_location).
    let storageLocation: string | null = null;
    let runId = input.runId || null;
    let loggedModelId = input.modelId || null;
    if (!isPrompt && /^models:/i.test(input.source)) {
      const parsed = (() => {
        try {
          return parseModelUri(input.source);
        } catch {
          return undefined;
        }
      })();
      if (parsed?.kind === 'model-id' && this.deps.loggedModels) {
        const logged = await this.deps.loggedModels.get(parsed.modelId);
        if (!logged) {
          throw MlflowError.invalidParameter(
            `Unable to fetch model from model URI source artifact location '${input.source}'.Error: Logged model with ID '${parsed.modelId}' not found.`,
          );
        }
        storageLocation = logged.artifactUri;
        runId ??= logged.sourceRunId ?? null;
        loggedModelId ??= logged.modelId;
      } else if (parsed?.kind === 'version') {
        storageLocation = await this.getDownloadUri(parsed.name, String(parsed.version));
      }
    }
    const created = await this.write(async (tx, events) => {
      const model = await this.requireModel(tx, input.name);
      events.prompt = model.is_prompt || isPrompt;
      const now = this.clock();
      // Takes the model's row lock: concurrent creates on one model get consecutive numbers.
      const version = await takeNextVersion(tx, model.id, now);
      await insertVersion(tx, {
        modelId: model.id,
        version,
        source: input.source,
        storageLocation,
        runId,
        runLink: input.runLink || null,
        description: input.description || null,
        modelId3: loggedModelId,
        tags,
        now,
      });
      events.add('MODEL_VERSION_CREATED', {
        name: input.name,
        version: String(version),
        source: input.source,
        run_id: runId ?? undefined,
        tags: tags.length > 0 ? tags : undefined,
        description: input.description || undefined,
        actor: who.actor,
      });
      const row = await findVersion(tx, model.id, version);
      const [record] = await hydrateVersions(tx, row ? [row] : []);
      return record;
    });
    // MLflow 3 lists the registry versions made from a logged model in its `mlflow.modelVersions` tag.
    // Tracking owns that tag: it is set after the commit, best effort (a failure leaves the version).
    if (!isPrompt && input.modelId && this.deps.loggedModels) {
      try {
        const logged = await this.deps.loggedModels.get(input.modelId);
        if (logged) {
          await this.deps.loggedModels.setTags(input.modelId, [
            {
              key: MODEL_VERSIONS_TAG,
              value: withModelVersion(logged.tags, input.name, String(created.version)),
            },
          ]);
        }
      } catch (error) {
        this.deps.onWarning?.(
          `could not tag logged model ${input.modelId} with ${input.name}/${created.version}`,
          error,
        );
      }
    }
    return created;
  }

  /**
   * The artifact root a local version source must lie in (MLflow's `_validate_source_model` /
   * `_validate_source_run`): the `model_id` logged model's, else the `run_id` run's, asked of tracking.
   * An unknown logged model or run is RESOURCE_DOES_NOT_EXIST, as MLflow's tracking store answers.
   * Undefined (the source is then refused) when the source is not local, has no anchor, fails the
   * allow-list regex, or tracking is out of reach.
   */
  private async localSourceAnchor(input: {
    source: string;
    runId?: string;
    modelId?: string;
  }): Promise<string | undefined> {
    if (!isLocalSource(input.source)) return undefined;
    if (this.deps.sourceRegex && !this.deps.sourceRegex.test(input.source)) return undefined;
    if (input.modelId) {
      if (!this.deps.loggedModels) return undefined;
      const logged = await this.deps.loggedModels.get(input.modelId);
      if (!logged) throw MlflowError.notFound(`Logged model with ID '${input.modelId}' not found.`);
      return logged.artifactUri;
    }
    if (input.runId && this.deps.runs) {
      const root = await this.deps.runs.artifactUri(input.runId);
      if (root === undefined) throw MlflowError.notFound(`Run with id=${input.runId} not found`);
      return root;
    }
    return undefined;
  }

  async getVersion(name: string, version: string): Promise<ModelVersionRecord> {
    const model = await this.requireModel(this.db, name);
    const row = await this.requireVersion(this.db, model, version);
    const [record] = await hydrateVersions(this.db, [row]);
    return record;
  }

  /** Versions by (name, version); missing ones are skipped (GraphQL batches). */
  async getVersions(keys: Array<{ name: string; version: number }>): Promise<ModelVersionRecord[]> {
    const models = await findModelsByNames(this.db, [...new Set(keys.map((key) => key.name))]);
    const idOf = new Map(models.map((model) => [model.name, model.id]));
    const rows = [];
    for (const key of keys) {
      const id = idOf.get(key.name);
      const row = id === undefined ? undefined : await findVersion(this.db, id, key.version);
      if (row) rows.push(row);
    }
    return hydrateVersions(this.db, rows);
  }

  /** Live versions of a model, newest first. */
  async listVersions(name: string): Promise<ModelVersionRecord[]> {
    const model = await this.requireModel(this.db, name);
    return hydrateVersions(this.db, await listVersions(this.db, model.id));
  }

  /** Live versions registered from any of these runs (GraphQL's `Run.modelVersions`). */
  async versionsOfRuns(runIds: string[]): Promise<ModelVersionRecord[]> {
    return hydrateVersions(this.db, await versionsOfRuns(this.db, runIds));
  }

  async updateVersion(
    name: string,
    version: string,
    description: string | undefined,
  ): Promise<ModelVersionRecord> {
    return inTransaction(this.db, async (tx) => {
      const model = await this.requireModel(tx, name);
      const row = await this.requireVersion(tx, model, version, true);
      const now = this.clock();
      await updateVersion(tx, model.id, row.version, { description: description ?? null, now });
      const [record] = await hydrateVersions(tx, [
        { ...row, description: description ?? null, last_updated_time: now },
      ]);
      return record;
    });
  }

  /** MLflow's soft delete; the version's aliases are deleted with it (each recorded and published). */
  async deleteVersion(name: string, version: string, who: Actor = {}): Promise<void> {
    await this.write(async (tx, events) => {
      const model = await this.requireModel(tx, name, true);
      events.prompt = model.is_prompt;
      const row = await this.requireVersion(tx, model, version, true);
      const now = this.clock();
      const aliases = await deleteAliasesOfVersion(tx, model.id, row.version);
      await appendHistory(
        tx,
        model.id,
        aliases.map((alias) => ({
          kind: 'ALIAS_DELETED' as const,
          version: row.version,
          from: String(row.version),
          to: null,
          alias,
          actor: who.actor,
          reason: 'model version deleted',
        })),
        now,
      );
      for (const alias of aliases) {
        events.add('MODEL_ALIAS_DELETED', { name, alias, version: String(row.version), actor: who.actor });
      }
      await softDeleteVersion(tx, model.id, row.version, now);
      await touchModel(tx, model.id, now);
      events.add('MODEL_VERSION_DELETED', {
        name,
        version: String(row.version),
        stage: row.current_stage,
        actor: who.actor,
      });
    });
  }

  /**
   * Moves a version to a stage (case-insensitive). With `archiveExisting` (only for Staging and
   * Production), every other version in that stage moves to Archived first; each move is a history
   * row and an event.
   */
  async transitionStage(
    name: string,
    version: string,
    stage: string,
    archiveExisting: boolean,
    who: Actor = {},
  ): Promise<ModelVersionRecord> {
    const target = canonicalStage(stage);
    checkArchiveExisting(target, archiveExisting);
    const number = parseVersion(version);
    validateModelName(name);
    return this.write(async (tx, events) => {
      // One round trip: the model's row lock (serialising its writers) and the version.
      const found = await lockModelAndVersion(tx, name, number);
      if (!found) throw modelNotFound(name);
      const { model } = found;
      events.prompt = model.is_prompt;
      const current = found.version;
      if (!current) throw versionNotFound(name, version);
      const now = this.clock();
      const archived = archiveExisting
        ? await archiveOthersInStage(tx, model.id, target, current.version, now)
        : [];
      await setStage(tx, model.id, current.version, target, now, [
        ...archived.map((number) => ({
          version: number,
          from: target,
          to: 'Archived',
          actor: who.actor ?? null,
          reason: `archived by the transition of version ${current.version} to ${target}`,
        })),
        {
          version: current.version,
          from: current.currentStage,
          to: target,
          actor: who.actor ?? null,
          reason: who.reason ?? null,
        },
      ]);
      for (const number of archived) {
        events.add('MODEL_VERSION_STAGE_TRANSITIONED', {
          name,
          version: String(number),
          from_stage: target,
          to_stage: 'Archived',
          archive_existing_versions: false,
          archived_by_version: String(current.version),
          actor: who.actor,
        });
      }
      events.add('MODEL_VERSION_STAGE_TRANSITIONED', {
        name,
        version: String(current.version),
        from_stage: current.currentStage,
        to_stage: target,
        archive_existing_versions: archiveExisting,
        actor: who.actor,
        reason: who.reason,
      });
      return { ...current, currentStage: target, lastUpdatedTimestamp: now };
    });
  }

  /** The stored storage location, else the source (MLflow's `get_model_version_download_uri`). */
  async getDownloadUri(name: string, version: string): Promise<string> {
    const model = await this.requireModel(this.db, name);
    const row = await this.requireVersion(this.db, model, version);
    return row.storage_location ?? row.source;
  }

  /**
   * Where the artifact service serves `path` of a version's files (`/model-versions/get-artifact`): the
   * proxy or `/get-artifact` for proxied and `runs:/` download URIs; for a local download URI inside its
   * run's local artifact root, `/get-artifact` of that run (the root asked of tracking). Undefined for
   * storage this server does not serve.
   */
  async versionFileDownloadPath(
    name: string,
    version: string,
    path: string,
  ): Promise<{ uri: string; target?: string }> {
    const model = await this.requireModel(this.db, name);
    const row = await this.requireVersion(this.db, model, version);
    const uri = row.storage_location ?? row.source;
    const target = artifactDownloadPath(uri, path);
    if (target !== undefined || !row.run_id || !this.deps.runs || !isLocalSource(uri)) return { uri, target };
    const artifactUri = await this.deps.runs.artifactUri(row.run_id);
    if (artifactUri === undefined) return { uri };
    return { uri, target: runFileDownloadPath(uri, { runId: row.run_id, artifactUri }, path) };
  }

  async searchVersions(search: SearchInput): Promise<{ versions: ModelVersionRecord[]; hasMore: boolean }> {
    return searchVersions(this.db, { ...search, includePrompts: searchesPrompts(search.filter) });
  }

  async setVersionTag(
    name: string,
    version: string,
    key: string,
    value: string,
    who: Actor = {},
  ): Promise<void> {
    validateRegistryTag(key, value);
    await this.write(async (tx, events) => {
      const model = await this.requireModel(tx, name);
      events.prompt = model.is_prompt;
      const row = await this.requireVersion(tx, model, version);
      await upsertVersionTag(tx, model.id, row.version, { key, value });
      events.add('MODEL_VERSION_TAG_SET', {
        name,
        version: String(row.version),
        key,
        value,
        actor: who.actor,
      });
    });
  }

  /** Deleting a tag that is not set is a no-op (no event); the version must exist. */
  async deleteVersionTag(name: string, version: string, key: string, who: Actor = {}): Promise<void> {
    await this.write(async (tx, events) => {
      const model = await this.requireModel(tx, name);
      events.prompt = model.is_prompt;
      const row = await this.requireVersion(tx, model, version);
      if (await deleteVersionTag(tx, model.id, row.version, key)) {
        events.add('MODEL_VERSION_TAG_DELETED', {
          name,
          version: String(row.version),
          key,
          actor: who.actor,
        });
      }
    });
  }

  // ------------------------------------------------------------------------------------------------------
  // Mast additions: history, models:/ resolution
  // ------------------------------------------------------------------------------------------------------

  /** A model's stage and alias history, oldest first; optionally of one version. */
  async history(
    name: string,
    options: { version?: string; maxResults: number; offset: number },
  ): Promise<{ entries: HistoryRecord[]; hasMore: boolean }> {
    const model = await this.requireModel(this.db, name);
    return listHistory(this.db, model.id, model.name, {
      version: options.version === undefined ? undefined : parseVersion(options.version),
      limit: options.maxResults,
      offset: options.offset,
    });
  }

  /**
   * Resolves every `models:/` form of spec §2.4: a version, a stage's newest version, `latest` (the
   * newest live version in any stage), an alias, or a logged model id. A logged model is looked up in
   * tracking (its artifact location) when the registry can reach it; otherwise only `modelId` is set and
   * the caller asks tracking itself.
   */
  async resolveUri(uri: string): Promise<ResolvedModelUri> {
    const parsed = parseModelUri(uri);
    let version: ModelVersionRecord;
    switch (parsed.kind) {
      case 'model-id': {
        const logged = await this.deps.loggedModels?.get(parsed.modelId);
        if (this.deps.loggedModels && !logged) {
          throw MlflowError.notFound(`Logged model with ID '${parsed.modelId}' not found.`);
        }
        return { modelId: parsed.modelId, artifactUri: logged?.artifactUri };
      }
      case 'version':
        version = await this.getVersion(parsed.name, String(parsed.version));
        break;
      case 'alias':
        version = await this.getVersionByAlias(parsed.name, parsed.alias);
        break;
      case 'stage':
      case 'latest': {
        const stages = parsed.kind === 'stage' ? [parsed.stage] : [];
        const latest = await this.getLatestVersions(parsed.name, stages);
        const newest = latest.sort((a, b) => b.version - a.version)[0];
        if (!newest) {
          throw MlflowError.notFound(
            parsed.kind === 'stage'
              ? `No versions of model with name '${parsed.name}' and stage '${parsed.stage}' found`
              : `No versions of model with name '${parsed.name}' found`,
          );
        }
        version = newest;
        break;
      }
    }
    return {
      version,
      artifactUri: await this.getDownloadUri(version.name, String(version.version)),
      modelId: version.modelId ?? undefined,
    };
  }
}
