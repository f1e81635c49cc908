import { type KubernetesObject, Watch } from '@kubernetes/client-node';
import { KubeApiError, type KubeClient } from './client.js';

/** The kinds rollouts watch, with their collection names (client-node's Watch takes a path). */
const PLURALS: Record<string, string> = {
  Deployment: 'deployments',
  Pod: 'pods',
  InferenceService: 'inferenceservices',
};

export interface WatchTarget {
  apiVersion: string;
  kind: keyof typeof PLURALS;
  namespace: string;
  fieldSelector?: string;
  labelSelector?: string;
}

function collectionPath(target: WatchTarget): string {
  const root = target.apiVersion.includes('/') ? `/apis/${target.apiVersion}` : `/api/${target.apiVersion}`;
  return `${root}/namespaces/${target.namespace}/${PLURALS[target.kind]}`;
}

const WATCH_TIMEOUT_SECONDS = 300;

/** Statuses after which watching again cannot help: the caller is not allowed, or the type is not served. */
const FINAL_STATUSES = new Set([401, 403, 404]);

/**
 * A cache of the objects matching `target`, kept current by list-then-watch (spec deploy.md §2.8):
 * the list's resourceVersion starts the watch; every event (and BOOKMARK) moves the resume point; a
 * stream that ends for any reason reconnects from the last resourceVersion (backing off 50 ms doubling
 * to 5 s while nothing arrives); 410 Gone (HTTP, or an ERROR event with code 410) re-lists. `onChange`
 * runs after the list and after every event; `onError` gets a final failure (401/403/404, or a list
 * that fails), after which the watch has stopped.
 */
export class ObjectWatch<T extends KubernetesObject> {
  /** Current objects by name. */
  readonly objects = new Map<string, T>();
  /** Lists after the first (each one a 410 recovery) and reconnections from a resourceVersion. */
  relists = 0;
  reconnects = 0;
  private resourceVersion = '';
  private expired = false;
  private stopped = false;
  private failuresInRow = 0;
  private controller?: AbortController;
  private timer?: NodeJS.Timeout;
  private readonly watch: Watch;

  constructor(
    private readonly client: KubeClient,
    private readonly target: WatchTarget,
    private readonly onChange: () => void,
    private readonly onError: (error: Error) => void,
  ) {
    this.watch = new Watch(client.kubeConfig);
  }

  start(): void {
    void this.list(false);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.controller?.abort();
  }

  private async list(isRelist: boolean): Promise<void> {
    if (this.stopped) return;
    if (isRelist) this.relists++;
    try {
      const { items, resourceVersion } = await this.client.list<T>(
        this.target.apiVersion,
        this.target.kind,
        this.target.namespace,
        {
          fieldSelector: this.target.fieldSelector,
          labelSelector: this.target.labelSelector,
        },
      );
      if (this.stopped) return;
      this.objects.clear();
      for (const item of items) this.objects.set(item.metadata?.name ?? '', item);
      this.resourceVersion = resourceVersion;
      this.onChange();
      await this.connect();
    } catch (error) {
      this.fail(error as Error);
    }
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    this.controller = await this.watch.watch(
      collectionPath(this.target),
      {
        resourceVersion: this.resourceVersion,
        allowWatchBookmarks: true,
        // The server ends the stream after this long and the watch resumes, as client-go's reflector asks
        // (5-10 min): a connection that died silently is not trusted forever. (client-node 1.4.0 sets no
        // client-side timeout on watches.)
        timeoutSeconds: WATCH_TIMEOUT_SECONDS,
        fieldSelector: this.target.fieldSelector,
        labelSelector: this.target.labelSelector,
      },
      (type, object) => this.event(type, object),
      (error) => this.ended(error),
    );
  }

  /** An ERROR event carries a `Status`; every other event a Kubernetes object (BOOKMARK: only its rv). */
  private event(type: string, object: (T & { code?: number }) | undefined): void {
    if (this.stopped) return;
    if (type === 'ERROR') {
      // The server closes the stream after an ERROR; `ended` decides between re-list and reconnect.
      if (object?.code === 410) this.expired = true;
      return;
    }
    this.failuresInRow = 0;
    const resourceVersion = object?.metadata?.resourceVersion;
    if (resourceVersion) this.resourceVersion = resourceVersion;
    if (type === 'BOOKMARK') return;
    const name = object?.metadata?.name ?? '';
    if (type === 'DELETED') this.objects.delete(name);
    else this.objects.set(name, object as T);
    this.onChange();
  }

  /** client-node's `done`: null for a clean end, else an error with `statusCode` for a non-200 answer. */
  private ended(error: (Error & { statusCode?: number }) | null): void {
    if (this.stopped) return;
    const status = error?.statusCode;
    if (this.expired || status === 410) {
      this.expired = false;
      void this.list(true);
      return;
    }
    if (status !== undefined && FINAL_STATUSES.has(status)) {
      this.fail(
        new KubeApiError(
          status,
          String(error?.message ?? status),
          `watch ${this.target.kind} in ${this.target.namespace} refused: ${status}`,
        ),
      );
      return;
    }
    const delay = Math.min(50 * 2 ** this.failuresInRow, 5000);
    this.failuresInRow++;
    this.timer = setTimeout(() => {
      this.reconnects++;
      this.connect().catch((e) => this.fail(e));
    }, delay);
  }

  private fail(error: Error): void {
    if (this.stopped) return;
    this.stop();
    this.onError(error);
  }
}
