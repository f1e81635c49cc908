import { createHash } from 'node:crypto';
import { type ImageBehaviour, podStatus, readySince } from './behaviours.js';
import type { FakeClock } from './clock.js';
import { typeOfKind } from './resources.js';
import type { KubeObject } from './selectors.js';
import { canonicalJson, type ObjectStore, same } from './store.js';

const DEPLOYMENTS = typeOfKind('apps/v1', 'Deployment');
const PODS = typeOfKind('v1', 'Pod');
const MANAGER = 'kube-controller-manager';

interface SimulatedPod {
  name: string;
  namespace: string;
  deployment: string;
  hash: string;
  image: string;
  container: string;
  createdAt: number;
}

interface DeploymentState {
  revisions: Map<string, number>;
  currentHash?: string;
  progress: { reason: string; message: string; at: number; status: 'True' | 'False' };
  progressTransitionAt: number;
  availableSince?: { status: string; at: number };
  lastCounts?: string;
}

/** `pod-template-hash`: a stable hash of `spec.template` (the real one is an FNV hash, safe-encoded). */
function templateHash(template: unknown): string {
  return createHash('sha256').update(canonicalJson(template)).digest('hex').slice(0, 10);
}

/** maxSurge (rounds up) or maxUnavailable (rounds down) of `replicas`, an int or "N%" (§2.1). */
function resolve(value: number | string | undefined, replicas: number, roundUp: boolean): number {
  const v = value ?? '25%';
  if (typeof v === 'number') return v;
  const percent = (Number.parseInt(v, 10) * replicas) / 100;
  return roundUp ? Math.ceil(percent) : Math.floor(percent);
}

/**
 * A simulated Deployment controller (spec §6.4): pods per template hash, rolling within maxSurge /
 * maxUnavailable (Recreate kills old pods first), revisions, status counts and the Progressing /
 * Available conditions with kube's reasons, ProgressDeadlineExceeded when the fake clock passes
 * `progressDeadlineSeconds` without progress. ReplicaSets are not stored; pods are, with
 * `pod-template-hash` labels, so a client can list and watch them.
 */
export class DeploymentController {
  private readonly pods = new Map<string, SimulatedPod>();
  private readonly states = new Map<string, DeploymentState>();
  private podCounter = 0;
  private scheduled = false;
  /** While true, new generations are not observed (to test "Waiting for deployment spec update..."). */
  paused = false;

  constructor(
    private readonly store: ObjectStore,
    private readonly clock: FakeClock,
    private readonly behaviourOf: (image: string) => ImageBehaviour,
  ) {
    clock.onAdvance(() => this.reconcileAll());
    store.onEvent((type) => {
      if (type === DEPLOYMENTS) this.schedule();
    });
  }

  /** Reconciles soon after a write, as a real controller does: the writer sees the new generation first. */
  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.reconcileAll();
    });
  }

  reconcileAll(): void {
    if (this.paused) return;
    const deployments = this.store.list(DEPLOYMENTS, undefined, () => true);
    const live = new Set(deployments.map((d) => `${d.metadata.namespace}/${d.metadata.name}`));
    for (const pod of [...this.pods.values()]) {
      if (!live.has(`${pod.namespace}/${pod.deployment}`)) this.deletePod(pod);
    }
    for (const key of [...this.states.keys()]) if (!live.has(key)) this.states.delete(key);
    for (const deployment of deployments) this.reconcile(deployment);
    for (const pod of this.pods.values()) this.refreshPod(pod);
  }

  private reconcile(deployment: KubeObject): void {
    const now = this.clock.now();
    const { name, namespace = 'default' } = deployment.metadata;
    const key = `${namespace}/${name}`;
    const spec = deployment.spec;
    const desired: number = spec.replicas ?? 1;
    const hash = templateHash(spec.template);
    const rsName = `${name}-${hash}`;
    let state = this.states.get(key);
    if (!state) {
      state = {
        revisions: new Map(),
        progress: { reason: '', message: '', at: now, status: 'True' },
        progressTransitionAt: now,
      };
      this.states.set(key, state);
    }
    if (state.currentHash !== hash) {
      const found = state.revisions.has(hash);
      state.revisions.set(hash, Math.max(0, ...state.revisions.values()) + 1);
      state.currentHash = hash;
      this.progress(
        state,
        'True',
        found ? 'FoundNewReplicaSet' : 'NewReplicaSetCreated',
        found ? `Found new replica set "${rsName}"` : `Created new replica set "${rsName}"`,
        now,
      );
    }
    const minReadyMs = (spec.minReadySeconds ?? 0) * 1000;
    const isAvailable = (p: SimulatedPod) => {
      const since = readySince(this.behaviourOf(p.image), p.createdAt, now);
      return since !== undefined && now - since >= minReadyMs;
    };
    const isReady = (p: SimulatedPod) =>
      readySince(this.behaviourOf(p.image), p.createdAt, now) !== undefined;
    const mine = () =>
      [...this.pods.values()].filter((p) => p.namespace === namespace && p.deployment === name);
    const before = mine().length;
    let changed = false;

    const container = spec.template.spec.containers[0];
    const create = () => {
      this.createPod(deployment, hash, container);
      changed = true;
    };
    if (spec.strategy?.type === 'Recreate') {
      for (const p of mine().filter((p) => p.hash !== hash)) {
        this.deletePod(p);
        changed = true;
      }
      if (mine().every((p) => p.hash === hash)) while (mine().length < desired) create();
    } else {
      const rolling = spec.strategy?.rollingUpdate ?? {};
      const surge = resolve(rolling.maxSurge, desired, true);
      let unavailable = resolve(rolling.maxUnavailable, desired, false);
      if (surge === 0 && unavailable === 0) unavailable = 1;
      for (let round = 0; round < 2; round++) {
        const current = mine().filter((p) => p.hash === hash);
        const old = mine().filter((p) => p.hash !== hash);
        const target = old.length === 0 ? desired : Math.min(desired, desired + surge - old.length);
        for (let n = current.length; n < target; n++) create();
        for (const extra of current.slice(desired)) {
          this.deletePod(extra);
          changed = true;
        }
        const all = mine();
        const fresh = all.filter((p) => p.hash === hash);
        const stale = all
          .filter((p) => p.hash !== hash)
          .sort((a, b) => Number(isAvailable(a)) - Number(isAvailable(b)));
        let canRemove = all.length - (desired - unavailable) - fresh.filter((p) => !isAvailable(p)).length;
        for (const p of stale) {
          // Unavailable old pods go first and cost no availability (cleanupUnhealthyReplicas).
          if (isAvailable(p) && canRemove <= 0) break;
          this.deletePod(p);
          changed = true;
          if (isAvailable(p)) canRemove--;
        }
      }
    }
    const pods = mine();
    const updated = pods.filter((p) => p.hash === hash);
    const available = pods.filter(isAvailable).length;
    const counts = JSON.stringify([pods.length, updated.length, available]);
    if (
      changed ||
      before !== pods.length ||
      (state.lastCounts !== undefined && state.lastCounts !== counts)
    ) {
      if (
        !['NewReplicaSetCreated', 'FoundNewReplicaSet'].includes(state.progress.reason) ||
        state.progress.at !== now
      ) {
        this.progress(state, 'True', 'ReplicaSetUpdated', `ReplicaSet "${rsName}" is progressing.`, now);
      }
    }
    state.lastCounts = counts;
    const complete =
      updated.length === desired && pods.length === desired && updated.filter(isAvailable).length === desired;
    const deadlineMs = (spec.progressDeadlineSeconds ?? 600) * 1000;
    if (complete) {
      if (state.progress.reason !== 'NewReplicaSetAvailable') {
        this.progress(
          state,
          'True',
          'NewReplicaSetAvailable',
          `ReplicaSet "${rsName}" has successfully progressed.`,
          now,
        );
      }
    } else if (state.progress.reason !== 'ProgressDeadlineExceeded' && now - state.progress.at > deadlineMs) {
      this.progress(
        state,
        'False',
        'ProgressDeadlineExceeded',
        `ReplicaSet "${rsName}" has timed out progressing.`,
        now,
      );
    }
    const unavailableBudget =
      spec.strategy?.type === 'Recreate'
        ? 0
        : resolve(spec.strategy?.rollingUpdate?.maxUnavailable, desired, false);
    const availableStatus = available >= desired - unavailableBudget ? 'True' : 'False';
    if (state.availableSince?.status !== availableStatus)
      state.availableSince = { status: availableStatus, at: now };
    const status = {
      observedGeneration: deployment.metadata.generation,
      replicas: pods.length,
      updatedReplicas: updated.length,
      readyReplicas: pods.filter(isReady).length,
      availableReplicas: available,
      unavailableReplicas: Math.max(0, desired - available),
      conditions: [
        {
          type: 'Available',
          status: availableStatus,
          lastUpdateTime: this.clock.iso(state.availableSince.at),
          lastTransitionTime: this.clock.iso(state.availableSince.at),
          reason: availableStatus === 'True' ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable',
          message:
            availableStatus === 'True'
              ? 'Deployment has minimum availability.'
              : 'Deployment does not have minimum availability.',
        },
        {
          type: 'Progressing',
          status: state.progress.status,
          lastUpdateTime: this.clock.iso(state.progress.at),
          lastTransitionTime: this.clock.iso(state.progressTransitionAt),
          reason: state.progress.reason,
          message: state.progress.message,
        },
      ],
    };
    const revision = String(state.revisions.get(hash));
    if (
      !same(deployment.status, status) ||
      deployment.metadata.annotations?.['deployment.kubernetes.io/revision'] !== revision
    ) {
      this.store.writeStatus(DEPLOYMENTS, namespace, name, status, {
        'deployment.kubernetes.io/revision': revision,
      });
    }
  }

  private progress(
    state: DeploymentState,
    status: 'True' | 'False',
    reason: string,
    message: string,
    at: number,
  ) {
    if (state.progress.status !== status) state.progressTransitionAt = at;
    state.progress = { status, reason, message, at };
  }

  private createPod(deployment: KubeObject, hash: string, container: { name: string; image: string }): void {
    this.podCounter += 1;
    const { name, namespace = 'default' } = deployment.metadata;
    const pod: SimulatedPod = {
      name: `${name}-${hash}-${this.podCounter.toString(36).padStart(5, '0')}`,
      namespace,
      deployment: name,
      hash,
      image: container.image,
      container: container.name,
      createdAt: this.clock.now(),
    };
    this.pods.set(`${namespace}/${pod.name}`, pod);
    const template = deployment.spec.template;
    this.store.create(
      PODS,
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          name: pod.name,
          namespace,
          labels: { ...(template.metadata?.labels ?? {}), 'pod-template-hash': hash },
          ownerReferences: [
            { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `${name}-${hash}`, controller: true },
          ],
        },
        spec: template.spec,
        status: this.statusOf(pod),
      },
      MANAGER,
    );
  }

  private statusOf(pod: SimulatedPod): object {
    const now = this.clock.now();
    return podStatus(
      this.behaviourOf(pod.image),
      { name: pod.container, image: pod.image },
      pod.createdAt,
      now,
      (ms) => this.clock.iso(ms),
    );
  }

  private refreshPod(pod: SimulatedPod): void {
    this.store.writeStatus(PODS, pod.namespace, pod.name, this.statusOf(pod));
  }

  private deletePod(pod: SimulatedPod): void {
    this.pods.delete(`${pod.namespace}/${pod.name}`);
    if (this.store.get(PODS, pod.namespace, pod.name)) this.store.delete(PODS, pod.namespace, pod.name);
  }
}
