import {
  ApiException,
  type KubeConfig,
  type KubernetesObject,
  KubernetesObjectApi,
  PatchStrategy,
} from '@kubernetes/client-node';
import { FIELD_MANAGER } from './manifests.js';

/**
 * The API server refused a request: its HTTP status, the `Status` reason (Forbidden, Invalid,
 * Conflict, ...) and message, and the field causes when it gave some (422 Invalid, 409 apply conflicts).
 */
export class KubeApiError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
    readonly causes: Array<{ field?: string; message?: string }> = [],
  ) {
    super(message);
    this.name = 'KubeApiError';
  }

  /** Worth retrying later (throttled, server trouble); 4xx answers are final. */
  get retryable(): boolean {
    return this.status === 429 || this.status >= 500;
  }
}

/** `what` (e.g. "apply Deployment ml/iris") refused: the server's Status turned into a KubeApiError. */
function toKubeApiError(error: unknown, what: string): unknown {
  if (!(error instanceof ApiException)) return error;
  let status: {
    reason?: string;
    message?: string;
    details?: { causes?: Array<{ field?: string; message?: string }> };
  } = {};
  try {
    status = typeof error.body === 'string' ? JSON.parse(error.body) : (error.body ?? {});
  } catch {
    status = { message: String(error.body) };
  }
  const reason = status.reason ?? 'Unknown';
  return new KubeApiError(
    error.code,
    reason,
    `${what} refused by the Kubernetes API server: ${error.code} ${reason}: ${status.message ?? 'no message'}`,
    status.details?.causes ?? [],
  );
}

/** A client-node object as plain JSON (timestamps as strings), the same shape watch events have. */
function plain<T>(object: T): T {
  return JSON.parse(JSON.stringify(object));
}

/** "Deployment ml/iris": how messages name an object. */
export function describeObject(object: {
  kind?: string;
  metadata?: { namespace?: string; name?: string };
}): string {
  return `${object.kind} ${object.metadata?.namespace}/${object.metadata?.name}`;
}

/**
 * The Kubernetes calls rollouts make, over client-node's generic `KubernetesObjectApi` (which finds each
 * kind's path through discovery). Writes are server-side apply with field manager `mast-deploy`.
 * Failures are KubeApiError; connection failures are client-node's errors unchanged.
 */
export class KubeClient {
  readonly objects: KubernetesObjectApi;

  constructor(readonly kubeConfig: KubeConfig) {
    this.objects = KubernetesObjectApi.makeApiClient(kubeConfig);
  }

  /**
   * Server-side apply of `object` (PATCH application/apply-patch+yaml, `fieldManager=mast-deploy`):
   * creates it when absent, otherwise makes Mast's fields what `object` says and drops the ones Mast
   * stopped sending. `force` (default true) takes over fields another manager changed, as a
   * controller should (spec §2.7); with `force: false` such drift is a 409 Conflict naming the fields.
   */
  async apply<T extends KubernetesObject>(
    object: T,
    options: { force?: boolean; dryRun?: boolean } = {},
  ): Promise<T> {
    try {
      const applied = await this.objects.patch(
        object,
        undefined,
        options.dryRun ? 'All' : undefined,
        FIELD_MANAGER,
        options.force ?? true,
        PatchStrategy.ServerSideApply,
      );
      return plain(applied);
    } catch (error) {
      throw toKubeApiError(error, `apply ${describeObject(object)}`);
    }
  }

  /** The object, or undefined when it does not exist. */
  async read<T extends KubernetesObject>(
    apiVersion: string,
    kind: string,
    namespace: string,
    name: string,
  ): Promise<T | undefined> {
    try {
      return plain(await this.objects.read<T>({ apiVersion, kind, metadata: { name, namespace } }));
    } catch (error) {
      if (error instanceof ApiException && error.code === 404) return undefined;
      throw toKubeApiError(error, `read ${kind} ${namespace}/${name}`);
    }
  }

  /** The matching objects and the list's resourceVersion (where a watch starts). */
  async list<T extends KubernetesObject>(
    apiVersion: string,
    kind: string,
    namespace: string,
    selectors: { fieldSelector?: string; labelSelector?: string } = {},
  ): Promise<{ items: T[]; resourceVersion: string }> {
    try {
      const list = await this.objects.list<T>(
        apiVersion,
        kind,
        namespace,
        undefined,
        undefined,
        undefined,
        selectors.fieldSelector,
        selectors.labelSelector,
      );
      return { items: plain(list.items), resourceVersion: list.metadata?.resourceVersion ?? '' };
    } catch (error) {
      throw toKubeApiError(error, `list ${kind} in ${namespace}`);
    }
  }

  /** Deletes the object (dependents in the background); false when it did not exist. */
  async delete(apiVersion: string, kind: string, namespace: string, name: string): Promise<boolean> {
    try {
      await this.objects.delete(
        { apiVersion, kind, metadata: { name, namespace } },
        undefined,
        undefined,
        undefined,
        undefined,
        'Background',
      );
      return true;
    } catch (error) {
      if (error instanceof ApiException && error.code === 404) return false;
      throw toKubeApiError(error, `delete ${kind} ${namespace}/${name}`);
    }
  }
}
