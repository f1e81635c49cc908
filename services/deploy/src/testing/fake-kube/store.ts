import { randomUUID } from 'node:crypto';
import type { FakeClock } from './clock.js';
import { groupVersion, type ResourceType } from './resources.js';
import type { KubeObject, Matcher } from './selectors.js';

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';
export interface StoredEvent {
  rv: number;
  type: EventType;
  object: KubeObject;
}

/** A Kubernetes `Status` failure: the server answers it with `code` as the HTTP status. */
export class KubeStatusError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }

  toStatus(): object {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      details: this.details,
      code: this.code,
    };
  }
}

/**
 * A deep copy through JSON. (Not structuredClone: under jest's VM its objects come from another realm,
 * and deep-strict comparisons then see different prototypes.)
 */
export function clone<T>(value: T): T {
  return value === undefined ? value : JSON.parse(JSON.stringify(value));
}

/** `value` as JSON with object keys sorted: equal values give equal strings. */
export function canonicalJson(value: unknown): string {
  const canonical = (v: any): any =>
    Array.isArray(v)
      ? v.map(canonical)
      : v !== null && typeof v === 'object'
        ? Object.fromEntries(
            Object.keys(v)
              .sort()
              .map((k) => [k, canonical(v[k])]),
          )
        : v;
  return JSON.stringify(canonical(value));
}

/** Deep equality of JSON values, key order ignored. */
export function same(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

type Path = string[];
const key = (path: Path) => JSON.stringify(path);
const unkey = (k: string): Path => JSON.parse(k);

interface FieldOwner {
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time: string;
  paths: Set<string>;
}

/** Fields no manager owns: identity, bookkeeping, status (its own subresource). */
function ownedPaths(object: KubeObject): Set<string> {
  const paths = new Set<string>();
  const walk = (value: unknown, path: Path) => {
    if (
      value !== null &&
      typeof value === 'object' &&
      !Array.isArray(value) &&
      Object.keys(value).length > 0
    ) {
      for (const [k, v] of Object.entries(value)) walk(v, [...path, k]);
    } else paths.add(key(path));
  };
  for (const [k, v] of Object.entries(object)) {
    if (k === 'apiVersion' || k === 'kind' || k === 'status') continue;
    if (k === 'metadata') {
      for (const m of ['labels', 'annotations'] as const) {
        for (const label of Object.keys(object.metadata[m] ?? {})) paths.add(key(['metadata', m, label]));
      }
      continue;
    }
    walk(v, [k]);
  }
  return paths;
}

function readPath(object: unknown, path: Path): unknown {
  let at: any = object;
  for (const part of path) {
    if (at === null || typeof at !== 'object') return undefined;
    at = at[part];
  }
  return at;
}

function deletePath(object: any, path: Path): void {
  let at = object;
  for (const part of path.slice(0, -1)) {
    if (at === null || typeof at !== 'object') return;
    at = at[part];
  }
  if (at && typeof at === 'object') delete at[path[path.length - 1]];
}

function overlaps(a: Path, b: Path): boolean {
  const n = Math.min(a.length, b.length);
  return a.slice(0, n).every((part, i) => part === b[i]);
}

/** RFC 7386 JSON merge patch (also SSA's merge of an applied config: maps merge, lists are atomic). */
export function mergeInto(target: any, patch: any, removeNulls = true): any {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return clone(patch);
  const result = target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null && removeNulls) delete result[k];
    else result[k] = mergeInto(result[k], v, removeNulls);
  }
  return result;
}

function fieldsV1(paths: Set<string>): object {
  const root: any = {};
  for (const k of paths) {
    let at = root;
    for (const part of unkey(k)) {
      at[`f:${part}`] ??= {};
      at = at[`f:${part}`];
    }
  }
  return root;
}

/**
 * The fake's etcd: objects per resource type, one global resourceVersion counter, an event log per type
 * with a compaction point, and field ownership per manager for server-side apply (spec §2.7, §6.2).
 */
export class ObjectStore {
  private rv = 0;
  private readonly objects = new Map<string, Map<string, KubeObject>>();
  private readonly logs = new Map<string, StoredEvent[]>();
  private readonly owners = new Map<string, Map<string, FieldOwner>>();
  private readonly listeners: Array<(type: ResourceType, event: StoredEvent) => void> = [];
  /** Events at or below this rv are forgotten: a watch from an older rv gets 410 Expired. */
  compactedRv = 0;

  constructor(
    private readonly clock: FakeClock,
    private readonly window = 1000,
  ) {}

  currentRv(): string {
    return String(this.rv);
  }

  onEvent(listener: (type: ResourceType, event: StoredEvent) => void): void {
    this.listeners.push(listener);
  }

  /** Forgets every event so far, as etcd compaction does. */
  compact(): void {
    this.compactedRv = this.rv;
    for (const log of this.logs.values()) log.length = 0;
  }

  get(type: ResourceType, namespace: string | undefined, name: string): KubeObject | undefined {
    const found = this.bucket(type).get(`${namespace ?? ''}/${name}`);
    return found && clone(found);
  }

  list(type: ResourceType, namespace: string | undefined, match: Matcher): KubeObject[] {
    return [...this.bucket(type).values()]
      .filter((o) => (namespace === undefined || o.metadata.namespace === namespace) && match(o))
      .sort((a, b) => Number(a.metadata.resourceVersion) - Number(b.metadata.resourceVersion))
      .map((o) => clone(o));
  }

  /** Events of `type` after `rv`, or 'expired' when `rv` is older than the log remembers. */
  eventsSince(type: ResourceType, rv: number): StoredEvent[] | 'expired' {
    if (rv < this.compactedRv) return 'expired';
    const log = this.logs.get(this.typeKey(type)) ?? [];
    return log.filter((e) => e.rv > rv).map((e) => ({ ...e, object: clone(e.object) }));
  }

  /** POST: creates, or 409 AlreadyExists. */
  create(
    type: ResourceType,
    object: KubeObject,
    manager: string,
    dryRun = false,
    operation: 'Apply' | 'Update' = 'Update',
  ): KubeObject {
    if (this.bucket(type).has(this.objectKey(type, object))) {
      throw new KubeStatusError(
        409,
        'AlreadyExists',
        `${qualifiedResource(type)} "${object.metadata.name}" already exists`,
        statusDetails(type, object.metadata.name),
      );
    }
    const created: KubeObject = {
      ...clone(object),
      apiVersion: groupVersion(type),
      kind: type.kind,
      metadata: {
        ...clone(object.metadata),
        uid: randomUUID(),
        creationTimestamp: this.clock.iso(),
        generation: 1,
      },
    };
    delete created.status;
    if (type.kind === 'Pod') created.status = object.status;
    validate(type, created);
    if (dryRun) return created;
    this.setOwner(type, created, manager, operation, ownedPaths(created));
    return this.write(type, created, 'ADDED');
  }

  /**
   * PATCH application/apply-patch+yaml: creates when absent; otherwise fields `manager` applies that
   * another manager owns with a different value are a 409 Conflict unless `force` (which moves them to
   * `manager`); fields `manager` applied before and leaves out now are removed unless someone else owns
   * them; `metadata.generation` grows only when `spec` changes; a no-op apply writes nothing.
   */
  apply(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    config: KubeObject,
    manager: string,
    force: boolean,
    dryRun = false,
  ): { object: KubeObject; created: boolean } {
    if (config.metadata?.name !== name) {
      throw new KubeStatusError(
        400,
        'BadRequest',
        `the name of the object (${config.metadata?.name}) does not match the name on the URL (${name})`,
      );
    }
    const config_ = { ...clone(config), metadata: { ...config.metadata, namespace } };
    const live = this.bucket(type).get(`${namespace ?? ''}/${name}`);
    const applied = ownedPaths(config_);
    if (!live) {
      return { object: this.create(type, config_, manager, dryRun, 'Apply'), created: true };
    }
    const owners = this.owners.get(this.objectKey(type, live)) ?? new Map<string, FieldOwner>();
    const conflicts: Array<{ type: string; message: string; field: string }> = [];
    for (const p of applied) {
      const path = unkey(p);
      for (const [other, owner] of owners) {
        if (other === manager) continue;
        for (const q of owner.paths) {
          if (!overlaps(path, unkey(q))) continue;
          if (same(readPath(live, path), readPath(config_, path))) continue;
          if (force) owner.paths.delete(q);
          else {
            conflicts.push({
              type: 'FieldManagerConflict',
              message: `conflict with "${other}" using ${owner.apiVersion}`,
              field: `.${path.join('.')}`,
            });
          }
        }
      }
    }
    if (conflicts.length > 0) {
      throw new KubeStatusError(
        409,
        'Conflict',
        `Apply failed with ${conflicts.length} conflict${conflicts.length > 1 ? 's' : ''}: ${conflicts
          .map((c) => `${c.message}: ${c.field}`)
          .join('; ')}`,
        { ...statusDetails(type, name), causes: conflicts },
      );
    }
    let next: KubeObject = clone(live);
    for (const q of owners.get(manager)?.paths ?? []) {
      if (applied.has(q)) continue;
      const ownedElsewhere = [...owners].some(([m, o]) => m !== manager && o.paths.has(q));
      if (!ownedElsewhere) deletePath(next, unkey(q));
    }
    const { metadata, ...rest } = config_;
    next = mergeInto(next, rest, false);
    next.metadata = {
      ...next.metadata,
      labels: mergeInto(next.metadata.labels ?? {}, metadata.labels ?? {}, false),
      annotations: mergeInto(next.metadata.annotations ?? {}, metadata.annotations ?? {}, false),
    };
    return { object: this.update(type, live, next, manager, 'Apply', applied, dryRun), created: false };
  }

  /** PATCH application/merge-patch+json (RFC 7386) by `manager` (an Update operation). */
  mergePatch(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    patch: any,
    manager: string,
  ): KubeObject {
    const live = this.require(type, namespace, name);
    const next = mergeInto(live, patch);
    next.metadata = { ...next.metadata, name, namespace };
    const touched = ownedPaths({ metadata: { name, ...(patch.metadata ?? {}) }, ...patch });
    return this.update(type, live, next, manager, 'Update', touched, false, true);
  }

  /** PUT: replaces the object when `metadata.resourceVersion` matches, else 409 Conflict. */
  replace(type: ResourceType, object: KubeObject, manager: string): KubeObject {
    const live = this.require(type, object.metadata.namespace, object.metadata.name);
    if (object.metadata.resourceVersion !== live.metadata.resourceVersion) {
      throw new KubeStatusError(
        409,
        'Conflict',
        `Operation cannot be fulfilled on ${qualifiedResource(type)} "${object.metadata.name}": the object has been modified; please apply your changes to the latest version and try again`,
        statusDetails(type, object.metadata.name),
      );
    }
    const next = { ...clone(object), status: live.status };
    return this.update(type, live, next, manager, 'Update', ownedPaths(object), false, true);
  }

  /** A controller's status (and annotation) write: never bumps `metadata.generation`; no-op when equal. */
  writeStatus(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    status: unknown,
    annotations?: Record<string, string>,
  ): void {
    const live = this.bucket(type).get(`${namespace ?? ''}/${name}`);
    if (!live) return;
    const nextAnnotations = annotations
      ? { ...(live.metadata.annotations ?? {}), ...annotations }
      : live.metadata.annotations;
    if (same(live.status, status) && same(live.metadata.annotations, nextAnnotations)) return;
    const next = clone(live);
    next.status = clone(status);
    if (nextAnnotations) next.metadata.annotations = nextAnnotations;
    this.write(type, next, 'MODIFIED');
  }

  /**
   * DELETE: removes the object (a DELETED event with `deletionTimestamp` set), or 404 NotFound. A
   * precondition (`uid`, `resourceVersion`) the object no longer meets is a 409 Conflict; `dryRun`
   * checks all that and keeps the object.
   */
  delete(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    preconditions: { uid?: string; resourceVersion?: string } = {},
    dryRun = false,
  ): KubeObject {
    const live = this.require(type, namespace, name);
    for (const [field, label] of [
      ['uid', 'UID'],
      ['resourceVersion', 'ResourceVersion'],
    ] as const) {
      const expected = preconditions[field];
      if (expected === undefined || expected === live.metadata[field]) continue;
      throw new KubeStatusError(
        409,
        'Conflict',
        `Operation cannot be fulfilled on ${qualifiedResource(type)} "${name}": Precondition failed: ${label} in precondition: ${expected}, ${label} in object meta: ${live.metadata[field]}`,
        statusDetails(type, name),
      );
    }
    const gone = { ...live, metadata: { ...live.metadata, deletionTimestamp: this.clock.iso() } };
    if (dryRun) return gone;
    this.bucket(type).delete(this.objectKey(type, live));
    this.owners.delete(this.objectKey(type, live));
    this.rv += 1;
    gone.metadata.resourceVersion = String(this.rv);
    this.log(type, { rv: this.rv, type: 'DELETED', object: gone });
    return gone;
  }

  require(type: ResourceType, namespace: string | undefined, name: string): KubeObject {
    const live = this.bucket(type).get(`${namespace ?? ''}/${name}`);
    if (!live) {
      throw new KubeStatusError(
        404,
        'NotFound',
        `${qualifiedResource(type)} "${name}" not found`,
        statusDetails(type, name),
      );
    }
    return clone(live);
  }

  private update(
    type: ResourceType,
    live: KubeObject,
    next: KubeObject,
    manager: string,
    operation: 'Apply' | 'Update',
    paths: Set<string>,
    dryRun: boolean,
    addPaths = false,
  ): KubeObject {
    delete next.metadata.managedFields;
    next.metadata.resourceVersion = live.metadata.resourceVersion;
    next.metadata.generation = live.metadata.generation;
    if (!same(live.spec, next.spec)) next.metadata.generation = (live.metadata.generation ?? 0) + 1;
    validate(type, next);
    if (dryRun) return next;
    const objectKey = this.objectKey(type, live);
    const owners = this.owners.get(objectKey) ?? new Map<string, FieldOwner>();
    this.owners.set(objectKey, owners);
    if (addPaths) {
      for (const [m, o] of owners) if (m !== manager) for (const p of paths) o.paths.delete(p);
    }
    const previous = owners.get(manager);
    const merged = addPaths && previous ? new Set([...previous.paths, ...paths]) : paths;
    this.setOwner(type, next, manager, operation, merged);
    const { managedFields: _before, ...liveMeta } = live.metadata;
    if (same({ ...live, metadata: liveMeta }, next) && same(previous?.paths, merged)) {
      return clone(live);
    }
    return this.write(type, next, 'MODIFIED');
  }

  private setOwner(
    type: ResourceType,
    object: KubeObject,
    manager: string,
    operation: 'Apply' | 'Update',
    paths: Set<string>,
  ) {
    const objectKey = this.objectKey(type, object);
    const owners = this.owners.get(objectKey) ?? new Map<string, FieldOwner>();
    this.owners.set(objectKey, owners);
    for (const [m, o] of owners) if (m !== manager && o.paths.size === 0) owners.delete(m);
    owners.set(manager, { operation, apiVersion: groupVersion(type), time: this.clock.iso(), paths });
  }

  private managedFields(type: ResourceType, object: KubeObject): unknown[] {
    return [...(this.owners.get(this.objectKey(type, object)) ?? new Map<string, FieldOwner>())].map(
      ([manager, o]) => ({
        manager,
        operation: o.operation,
        apiVersion: o.apiVersion,
        time: o.time,
        fieldsType: 'FieldsV1',
        fieldsV1: fieldsV1(o.paths),
      }),
    );
  }

  private write(type: ResourceType, object: KubeObject, eventType: EventType): KubeObject {
    this.rv += 1;
    object.metadata.resourceVersion = String(this.rv);
    object.metadata.managedFields = this.managedFields(type, object);
    this.bucket(type).set(this.objectKey(type, object), object);
    this.log(type, { rv: this.rv, type: eventType, object: clone(object) });
    return clone(object);
  }

  private log(type: ResourceType, event: StoredEvent): void {
    const log = this.logs.get(this.typeKey(type)) ?? [];
    this.logs.set(this.typeKey(type), log);
    log.push(event);
    if (log.length > this.window) {
      const dropped = log.splice(0, log.length - this.window);
      this.compactedRv = Math.max(this.compactedRv, dropped[dropped.length - 1].rv);
    }
    for (const listener of this.listeners) listener(type, event);
  }

  private typeKey(type: ResourceType): string {
    return `${type.group}/${type.version}/${type.plural}`;
  }

  private objectKey(type: ResourceType, object: KubeObject): string {
    return `${type.namespaced ? (object.metadata.namespace ?? '') : ''}/${object.metadata.name}`;
  }

  private bucket(type: ResourceType): Map<string, KubeObject> {
    const k = this.typeKey(type);
    let bucket = this.objects.get(k);
    if (!bucket) {
      bucket = new Map();
      this.objects.set(k, bucket);
    }
    return bucket;
  }
}

/** A `Status`'s `details` naming an object: `group` is left out for the core group, as the API server does. */
export function statusDetails(type: ResourceType, name: string): Record<string, string> {
  return { name, ...(type.group ? { group: type.group } : {}), kind: type.plural };
}

/** How the API server names a resource in messages: `deployments.apps`, `services` (the core group has no suffix). */
function qualifiedResource(type: ResourceType): string {
  return type.group === '' ? type.plural : `${type.plural}.${type.group}`;
}

/** The validation the API server does that a rollout can trip over (422 Invalid). */
function validate(type: ResourceType, object: KubeObject): void {
  if (type.kind !== 'Deployment') return;
  const causes: Array<{ reason: string; message: string; field: string }> = [];
  const spec = object.spec ?? {};
  const selector: Record<string, string> = spec.selector?.matchLabels ?? {};
  const labels: Record<string, string> = spec.template?.metadata?.labels ?? {};
  if (Object.keys(selector).length === 0) {
    causes.push({ reason: 'FieldValueRequired', message: 'Required value', field: 'spec.selector' });
  } else if (Object.entries(selector).some(([k, v]) => labels[k] !== v)) {
    causes.push({
      reason: 'FieldValueInvalid',
      message: `Invalid value: map[string]string${JSON.stringify(labels)}: \`selector\` does not match template \`labels\``,
      field: 'spec.template.metadata.labels',
    });
  }
  const containers: any[] = spec.template?.spec?.containers ?? [];
  if (containers.length === 0) {
    causes.push({
      reason: 'FieldValueRequired',
      message: 'Required value',
      field: 'spec.template.spec.containers',
    });
  }
  containers.forEach((c, i) => {
    if (!c.image) {
      causes.push({
        reason: 'FieldValueRequired',
        message: 'Required value',
        field: `spec.template.spec.containers[${i}].image`,
      });
    }
  });
  const deadline = spec.progressDeadlineSeconds ?? 600;
  if (deadline <= (spec.minReadySeconds ?? 0)) {
    causes.push({
      reason: 'FieldValueInvalid',
      message: `Invalid value: ${deadline}: must be greater than minReadySeconds`,
      field: 'spec.progressDeadlineSeconds',
    });
  }
  if (causes.length > 0) {
    throw new KubeStatusError(
      422,
      'Invalid',
      `Deployment.apps "${object.metadata.name}" is invalid: ${causes.map((c) => `${c.field}: ${c.message}`).join(', ')}`,
      { name: object.metadata.name, group: 'apps', kind: 'Deployment', causes },
    );
  }
}
