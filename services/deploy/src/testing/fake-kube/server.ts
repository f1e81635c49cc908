import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { parse as parseYaml } from 'yaml';
import type { PolicyRule } from '../../kube/rbac.js';
import { DEFAULT_READY_AFTER_MS, type ImageBehaviour } from './behaviours.js';
import { FakeClock } from './clock.js';
import { DeploymentController } from './deployment-controller.js';
import { KServeController } from './kserve-controller.js';
import {
  apiGroupList,
  apiResourceList,
  findType,
  groupVersion,
  type ResourceType,
  typeOfKind,
} from './resources.js';
import { fieldMatcher, type KubeObject, labelMatcher, type Matcher } from './selectors.js';
import { KubeStatusError, ObjectStore, type StoredEvent, statusDetails } from './store.js';

/** One request the fake answered, for tests that check what the client asked. */
export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  contentType?: string;
  status?: number;
}

/** An injected failure: the next `times` requests matching `method` and `plural` (and `name`) get `status`. */
export interface InjectedFailure {
  method?: string;
  plural?: string;
  name?: string;
  status: number;
  reason: string;
  message: string;
  times?: number;
}

interface ActiveWatch {
  type: ResourceType;
  namespace?: string;
  match: Matcher;
  known: Set<string>;
  bookmarks: boolean;
  res: ServerResponse;
}

interface ParsedPath {
  type: ResourceType;
  namespace?: string;
  name?: string;
  subresource?: string;
}

/**
 * A protocol-level fake Kubernetes API server on a loopback port (spec deploy.md §6.2-6.4): discovery,
 * GET/LIST/WATCH/POST/PUT/PATCH (apply, merge)/DELETE over the resource types in `resources.ts`,
 * `Status` errors, resourceVersions, generations, field managers, watch with resume, bookmarks and
 * 410 Expired, plus simulated Deployment and KServe controllers driven by `clock`.
 */
export class FakeKubeApiServer {
  readonly clock = new FakeClock();
  readonly store = new ObjectStore(this.clock);
  readonly requests: RecordedRequest[] = [];
  readonly deployments: DeploymentController;
  readonly kserve: KServeController;
  readonly deploymentsType = typeOfKind('apps/v1', 'Deployment');
  /** How a watch from a compacted resourceVersion is refused: HTTP 410, or a 200 stream with one ERROR event. */
  expiredWatchAs: 'http' | 'event' = 'http';
  private readonly behaviours = new Map<string, ImageBehaviour>();
  private readonly failures: InjectedFailure[] = [];
  private readonly watches = new Set<ActiveWatch>();
  private server?: Server;

  constructor() {
    const behaviourOf = (image: string) =>
      this.behaviours.get(image) ?? { kind: 'healthy', readyAfterMs: DEFAULT_READY_AFTER_MS };
    this.deployments = new DeploymentController(this.store, this.clock, behaviourOf);
    this.kserve = new KServeController(this.store, this.clock, behaviourOf);
    this.store.onEvent((type, event) => this.broadcast(type, event));
    this.clock.onAdvance(() => this.sendBookmarks());
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error) => this.fail(res, error));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return this;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  /** A KubeConfig for client-node pointing at this server (plain HTTP, a dummy token). */
  kubeConfig(namespace = 'default'): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'fake', server: this.url, skipTLSVerify: true }],
      users: [{ name: 'mast-deploy', token: 'test-token' }],
      contexts: [{ name: 'fake', cluster: 'fake', user: 'mast-deploy', namespace }],
      currentContext: 'fake',
    });
    return kc;
  }

  /** What pods running `image` do from now on (default: healthy, ready after 3 s). */
  setImageBehaviour(image: string, behaviour: ImageBehaviour): void {
    this.behaviours.set(image, behaviour);
  }

  injectFailure(failure: InjectedFailure): void {
    this.failures.push({ times: 1, ...failure });
  }

  /** Ends every open watch stream cleanly, as a load balancer's idle timeout does. */
  dropWatches(): void {
    for (const watch of this.watches) watch.res.end();
    this.watches.clear();
  }

  /** Sends an unparsable line on every open watch (client-node ignores it). */
  sendGarbage(): void {
    for (const watch of this.watches) watch.res.write('{"type": "MODIFIED", "object": \n');
  }

  watchCount(): number {
    return this.watches.size;
  }

  /** Advances the fake clock by `stepMs` and yields to the event loop, `steps` times. */
  async tick(stepMs = 1000, steps = 1): Promise<void> {
    for (let i = 0; i < steps; i++) {
      this.clock.advance(stepMs);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }

  /** Ticks until `promise` settles (at most `maxSteps` steps of `stepMs`), then returns its result. */
  async drive<T>(promise: Promise<T>, stepMs = 1000, maxSteps = 2000): Promise<T> {
    let settled = false;
    const watched = promise.finally(() => {
      settled = true;
    });
    for (let i = 0; i < maxSteps && !settled; i++) await this.tick(stepMs);
    return watched;
  }

  /**
   * The requests answered so far that `rules` do not allow, as `verb group/resource` (the core group
   * as ''): what the API server's RBAC authorizer would have refused. A server-side apply that created
   * its object (201) also needs `create`. Discovery is not a resource request, and reads of one object
   * (`get`) are left out: tests read objects back with KubeClient.read, the worker never does (it
   * lists and watches).
   */
  requestsOutside(rules: readonly PolicyRule[]): string[] {
    const refused = new Set<string>();
    for (const request of this.requests) {
      const parsed = parsePath(request.path);
      if (!parsed) continue;
      const resource = parsed.subresource
        ? `${parsed.type.plural}/${parsed.subresource}`
        : parsed.type.plural;
      if (request.method === 'GET' && parsed.name) continue;
      for (const verb of rbacVerbs(request, parsed)) {
        const allowed = rules.some(
          (rule) =>
            rule.apiGroups.includes(parsed.type.group) &&
            rule.resources.includes(resource) &&
            rule.verbs.includes(verb),
        );
        if (!allowed) refused.add(`${verb} ${parsed.type.group}/${resource}`);
      }
    }
    return [...refused];
  }

  async close(): Promise<void> {
    this.dropWatches();
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const recorded: RecordedRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      contentType: req.headers['content-type'],
    };
    this.requests.push(recorded);
    res.on('finish', () => {
      recorded.status = res.statusCode;
    });
    const body = await readBody(req);
    const discovery = this.discovery(url.pathname);
    if (discovery) return this.send(res, 200, discovery);
    const parsed = parsePath(url.pathname);
    if (!parsed)
      throw new KubeStatusError(404, 'NotFound', 'the server could not find the requested resource');
    this.injected(recorded.method, parsed);
    const { type, namespace, name, subresource } = parsed;
    const q = url.searchParams;
    const manager = q.get('fieldManager') ?? 'unknown';
    const dryRun = q.get('dryRun') === 'All';
    switch (recorded.method) {
      case 'GET': {
        if (name) {
          return this.send(res, 200, this.store.require(type, namespace, name));
        }
        const match = selectorMatcher(q);
        if (q.get('watch') === 'true' || q.get('watch') === '1')
          return this.watch(req, res, type, namespace, match, q);
        const items = this.store.list(type, namespace, match);
        return this.send(res, 200, {
          apiVersion: groupVersion(type),
          kind: `${type.kind}List`,
          metadata: { resourceVersion: this.store.currentRv() },
          items,
        });
      }
      case 'POST':
        return this.send(res, 201, this.store.create(type, inNamespace(body, namespace), manager, dryRun));
      case 'PUT':
        return this.send(res, 200, this.store.replace(type, inNamespace(body, namespace), manager));
      case 'PATCH': {
        if (!name || subresource)
          throw new KubeStatusError(
            405,
            'MethodNotAllowed',
            'the server does not allow this method on the requested resource',
          );
        const contentType = (req.headers['content-type'] ?? '').split(';')[0].trim();
        if (contentType === 'application/apply-patch+yaml') {
          if (!q.get('fieldManager')) {
            throw new KubeStatusError(
              400,
              'BadRequest',
              'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
            );
          }
          const config = parseYaml(body) as KubeObject;
          const { object, created } = this.store.apply(
            type,
            namespace,
            name,
            config,
            manager,
            q.get('force') === 'true',
            dryRun,
          );
          return this.send(res, created ? 201 : 200, object);
        }
        if (q.get('force') !== null) {
          throw new KubeStatusError(
            400,
            'BadRequest',
            'force: Invalid value: true: may not be specified for non-apply patch',
          );
        }
        if (contentType === 'application/merge-patch+json') {
          return this.send(res, 200, this.store.mergePatch(type, namespace, name, JSON.parse(body), manager));
        }
        throw new KubeStatusError(
          415,
          'UnsupportedMediaType',
          `the body of the request was in an unknown format - accepted media types include: application/merge-patch+json, application/apply-patch+yaml`,
        );
      }
      case 'DELETE': {
        if (!name)
          throw new KubeStatusError(
            405,
            'MethodNotAllowed',
            'the server does not allow this method on the requested resource',
          );
        const options = deleteOptions(body, q);
        const gone = this.store.delete(type, namespace, name, options.preconditions, options.dryRun);
        // What the API server answers for HPAs, PDBs and Deployments (Pods answer with the object).
        return this.send(res, 200, {
          kind: 'Status',
          apiVersion: 'v1',
          metadata: {},
          status: 'Success',
          details: { ...statusDetails(type, name), uid: gone.metadata.uid },
        });
      }
      default:
        throw new KubeStatusError(
          405,
          'MethodNotAllowed',
          'the server does not allow this method on the requested resource',
        );
    }
  }

  private discovery(path: string): object | undefined {
    if (path === '/api') return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] };
    if (path === '/apis') return apiGroupList();
    if (path === '/version') return { major: '1', minor: '32', gitVersion: 'v1.32.0-fake' };
    const core = /^\/api\/(v1)$/.exec(path);
    if (core) return apiResourceList('', core[1]);
    const group = /^\/apis\/([^/]+)\/([^/]+)$/.exec(path);
    if (group) {
      const list = apiResourceList(group[1], group[2]);
      if (!list)
        throw new KubeStatusError(404, 'NotFound', 'the server could not find the requested resource');
      return list;
    }
    return undefined;
  }

  private injected(method: string, parsed: ParsedPath): void {
    const index = this.failures.findIndex(
      (f) =>
        (f.method === undefined || f.method === method) &&
        (f.plural === undefined || f.plural === parsed.type.plural) &&
        (f.name === undefined || f.name === parsed.name),
    );
    if (index < 0) return;
    const failure = this.failures[index];
    failure.times = (failure.times ?? 1) - 1;
    if (failure.times <= 0) this.failures.splice(index, 1);
    throw new KubeStatusError(failure.status, failure.reason, failure.message, {
      name: parsed.name,
      group: parsed.type.group,
      kind: parsed.type.plural,
    });
  }

  private watch(
    req: IncomingMessage,
    res: ServerResponse,
    type: ResourceType,
    namespace: string | undefined,
    match: Matcher,
    q: URLSearchParams,
  ): void {
    const from = q.get('resourceVersion');
    const inScope = (o: KubeObject) =>
      (namespace === undefined || o.metadata.namespace === namespace) && match(o);
    let replay: StoredEvent[] | 'expired' = [];
    const known = new Set<string>();
    if (from && from !== '0') {
      replay = this.store.eventsSince(type, Number(from));
      if (replay !== 'expired') {
        for (const o of this.store.list(type, namespace, match)) {
          if (Number(o.metadata.resourceVersion) <= Number(from)) known.add(objectKey(o));
        }
      }
    }
    const expired = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: `too old resource version: ${from} (${this.store.compactedRv})`,
      reason: 'Expired',
      code: 410,
    };
    if (replay === 'expired' && this.expiredWatchAs === 'http') {
      this.send(res, 410, expired);
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
    res.flushHeaders();
    if (replay === 'expired') {
      res.end(`${JSON.stringify({ type: 'ERROR', object: expired })}\n`);
      return;
    }
    const watch: ActiveWatch = {
      type,
      namespace,
      match: inScope,
      known,
      bookmarks: q.get('allowWatchBookmarks') === 'true',
      res,
    };
    if (!from || from === '0') {
      for (const o of this.store.list(type, namespace, match))
        this.deliver(watch, { rv: 0, type: 'ADDED', object: o });
    }
    for (const event of replay) this.deliver(watch, event);
    this.watches.add(watch);
    const timeout = Number(q.get('timeoutSeconds') ?? 0);
    const timer = timeout > 0 ? setTimeout(() => res.end(), timeout * 1000) : undefined;
    const forget = () => {
      clearTimeout(timer);
      this.watches.delete(watch);
    };
    req.on('close', forget);
    res.on('close', forget);
  }

  /** Sends `event` to `watch` as the watcher sees it: objects leaving its selector become DELETED. */
  private deliver(watch: ActiveWatch, event: StoredEvent): void {
    const k = objectKey(event.object);
    const matches = watch.match(event.object);
    let type: string | undefined;
    if (event.type === 'DELETED') type = watch.known.has(k) || matches ? 'DELETED' : undefined;
    else if (matches) type = watch.known.has(k) ? 'MODIFIED' : 'ADDED';
    else if (watch.known.has(k)) type = 'DELETED';
    if (type === 'DELETED') watch.known.delete(k);
    else if (type) watch.known.add(k);
    if (type) watch.res.write(`${JSON.stringify({ type, object: event.object })}\n`);
  }

  private broadcast(type: ResourceType, event: StoredEvent): void {
    for (const watch of this.watches) if (watch.type === type) this.deliver(watch, event);
  }

  private sendBookmarks(): void {
    for (const watch of this.watches) {
      if (!watch.bookmarks) continue;
      const object = {
        kind: watch.type.kind,
        apiVersion: groupVersion(watch.type),
        metadata: { resourceVersion: this.store.currentRv() },
      };
      watch.res.write(`${JSON.stringify({ type: 'BOOKMARK', object })}\n`);
    }
  }

  private send(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  private fail(res: ServerResponse, error: unknown): void {
    const status =
      error instanceof KubeStatusError
        ? error
        : new KubeStatusError(
            error instanceof SyntaxError ? 400 : 500,
            error instanceof SyntaxError ? 'BadRequest' : 'InternalError',
            String(error),
          );
    if (res.headersSent) {
      res.end();
      return;
    }
    this.send(res, status.code, status.toStatus());
  }
}

/** The request body's object, placed in the URL's namespace; 400 for an empty body. */
function inNamespace(body: string, namespace: string | undefined): KubeObject {
  if (!body) throw new KubeStatusError(400, 'BadRequest', 'the request body is empty');
  const object = JSON.parse(body) as KubeObject;
  return { ...object, metadata: { ...object.metadata, namespace } };
}

/**
 * A DELETE's options, from its `DeleteOptions` body (optional) and query: `preconditions`, `dryRun`
 * (`All`), and `propagationPolicy`, which must be Orphan, Background or Foreground (else 422 Invalid,
 * as the API server validates it; the fake has no dependents to cascade to).
 */
function deleteOptions(
  body: string,
  q: URLSearchParams,
): { preconditions?: { uid?: string; resourceVersion?: string }; dryRun: boolean } {
  const options = body ? (JSON.parse(body) as Record<string, any>) : {};
  const policy = q.get('propagationPolicy') ?? options.propagationPolicy;
  if (policy !== undefined && !['Orphan', 'Background', 'Foreground'].includes(policy)) {
    throw new KubeStatusError(
      422,
      'Invalid',
      `DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "${policy}": supported values: "Foreground", "Background", "Orphan"`,
      {
        group: 'meta.k8s.io',
        kind: 'DeleteOptions',
        causes: [{ reason: 'FieldValueNotSupported', field: 'propagationPolicy' }],
      },
    );
  }
  const dryRun = q.get('dryRun') === 'All' || (options.dryRun ?? []).includes('All');
  return { preconditions: options.preconditions, dryRun };
}

function objectKey(o: KubeObject): string {
  return `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
}

function selectorMatcher(q: URLSearchParams): Matcher {
  try {
    const labels = labelMatcher(q.get('labelSelector'));
    const fields = fieldMatcher(q.get('fieldSelector'));
    return (o) => labels(o) && fields(o);
  } catch (error) {
    throw new KubeStatusError(400, 'BadRequest', (error as Error).message);
  }
}

/** `/api/v1/...` or `/apis/<group>/<version>/...`, with `namespaces/<ns>/` for namespaced types. */
function parsePath(path: string): ParsedPath | undefined {
  const m = /^\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))\/(.+)$/.exec(path);
  if (!m) return undefined;
  const [group, version] = m[1] ? ['', m[1]] : [m[2], m[3]];
  const parts = m[4].split('/');
  let namespace: string | undefined;
  if (parts[0] === 'namespaces' && parts.length >= 3) {
    namespace = parts[1];
    parts.splice(0, 2);
  }
  const type = findType(group, version, parts[0]);
  if (!type) return undefined;
  return { type, namespace, name: parts[1], subresource: parts[2] };
}

/** The RBAC verbs a request needs (Kubernetes' request-info mapping of method and query). */
function rbacVerbs(request: RecordedRequest, parsed: ParsedPath): string[] {
  const watch = request.query.get('watch');
  switch (request.method) {
    case 'GET':
      if (parsed.name) return ['get'];
      return watch === 'true' || watch === '1' ? ['watch'] : ['list'];
    case 'POST':
      return ['create'];
    case 'PUT':
      return ['update'];
    case 'PATCH':
      return request.status === 201 ? ['patch', 'create'] : ['patch'];
    case 'DELETE':
      return parsed.name ? ['delete'] : ['deletecollection'];
    default:
      return [request.method.toLowerCase()];
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Starts a fake API server on a free loopback port. */
export function startFakeKube(): Promise<FakeKubeApiServer> {
  return new FakeKubeApiServer().start();
}
