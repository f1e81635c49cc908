import { createHash } from 'node:crypto';
import { type ImageBehaviour, readySince } from './behaviours.js';
import type { FakeClock } from './clock.js';
import { typeOfKind } from './resources.js';
import type { KubeObject } from './selectors.js';
import type { ObjectStore } from './store.js';

const ISVC = typeOfKind('serving.kserve.io/v1beta1', 'InferenceService');

interface Revision {
  name: string;
  image: string;
  createdAt: number;
}

interface IsvcState {
  specHash: string;
  revisions: Revision[];
  rolledOut?: string;
  previousRolledOut?: string;
}

/**
 * A simulated KServe controller in Knative mode (spec §3.4-3.5, §6.4): each predictor change is a new
 * revision named `<isvc>-predictor-0000N`; a revision is ready per its image's behaviour; traffic follows
 * `canaryTrafficPercent` (the latest ready revision gets the percent, the last rolled-out one the rest;
 * an unready revision gets nothing; no percent promotes the latest ready revision to 100 %);
 * `modelStatus` reports FailedToLoad for a crash-looping or unpullable image.
 */
export class KServeController {
  private readonly states = new Map<string, IsvcState>();
  private scheduled = false;

  constructor(
    private readonly store: ObjectStore,
    private readonly clock: FakeClock,
    private readonly behaviourOf: (image: string) => ImageBehaviour,
  ) {
    clock.onAdvance(() => this.reconcileAll());
    store.onEvent((type) => {
      if (type === ISVC) this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.reconcileAll();
    });
  }

  reconcileAll(): void {
    for (const isvc of this.store.list(ISVC, undefined, () => true)) this.reconcile(isvc);
  }

  private reconcile(isvc: KubeObject): void {
    const now = this.clock.now();
    const { name, namespace = 'default' } = isvc.metadata;
    const predictor = isvc.spec?.predictor ?? {};
    const { canaryTrafficPercent, ...template } = predictor;
    const specHash = createHash('sha256').update(JSON.stringify(template)).digest('hex');
    const key = `${namespace}/${name}`;
    let state = this.states.get(key);
    if (!state || state.specHash !== specHash) {
      state ??= { specHash, revisions: [] };
      state.specHash = specHash;
      state.revisions.push({
        name: `${name}-predictor-${String(state.revisions.length + 1).padStart(5, '0')}`,
        image: template.containers?.[0]?.image ?? '',
        createdAt: now,
      });
      this.states.set(key, state);
    }
    const latest = state.revisions[state.revisions.length - 1];
    const isReady = (r: Revision) => readySince(this.behaviourOf(r.image), r.createdAt, now) !== undefined;
    const latestReady = [...state.revisions].reverse().find(isReady);
    const behaviour = this.behaviourOf(latest.image);
    const failed =
      (behaviour.kind === 'crashloop' || behaviour.kind === 'unpullable') && now - latest.createdAt >= 2000;

    let traffic: object[] = [];
    if (isReady(latest)) {
      const percent: number | undefined = canaryTrafficPercent;
      if (percent === undefined || state.rolledOut === undefined) {
        if (state.rolledOut !== latest.name) {
          state.previousRolledOut = state.rolledOut;
          state.rolledOut = latest.name;
        }
        traffic = [{ revisionName: latest.name, percent: 100, latestRevision: true }];
      } else if (state.rolledOut === latest.name || percent === 0) {
        traffic = [
          { revisionName: state.rolledOut, percent: 100, latestRevision: state.rolledOut === latest.name },
        ];
      } else {
        traffic = [
          { revisionName: latest.name, percent, tag: 'latest', latestRevision: true },
          { revisionName: state.rolledOut, percent: 100 - percent, tag: 'prev', latestRevision: false },
        ];
      }
    } else if (state.rolledOut) {
      traffic = [{ revisionName: state.rolledOut, percent: 100, latestRevision: false }];
    }
    const condition = (type: string, ok: boolean, reason?: string, message?: string) => ({
      type,
      status: ok ? 'True' : 'False',
      ...(ok ? {} : { reason, message }),
    });
    const predictorReady = isReady(latest);
    const ingressReady = state.rolledOut !== undefined;
    const status = {
      observedGeneration: isvc.metadata.generation,
      url: `http://${name}.${namespace}.example.com`,
      address: { url: `http://${name}-predictor.${namespace}.svc.cluster.local` },
      conditions: [
        condition('IngressReady', ingressReady, 'IngressNotConfigured', 'no revision has become ready'),
        condition(
          'PredictorReady',
          predictorReady,
          failed ? 'RevisionFailed' : 'RevisionMissing',
          `revision ${latest.name} is not ready`,
        ),
        condition(
          'Ready',
          predictorReady && ingressReady,
          'PredictorNotReady',
          `revision ${latest.name} is not ready`,
        ),
      ],
      components: {
        predictor: {
          latestCreatedRevision: latest.name,
          ...(latestReady ? { latestReadyRevision: latestReady.name } : {}),
          ...(state.rolledOut ? { latestRolledoutRevision: state.rolledOut } : {}),
          ...(state.previousRolledOut ? { previousRolledoutRevision: state.previousRolledOut } : {}),
          traffic,
        },
      },
      modelStatus: failed
        ? {
            transitionStatus: 'BlockedByFailedLoad',
            states: { activeModelState: 'Pending', targetModelState: 'FailedToLoad' },
            lastFailureInfo: {
              reason: 'ModelLoadFailed',
              message: `revision ${latest.name}: container ${behaviour.kind === 'crashloop' ? 'crash-looping' : 'image not pullable'}`,
            },
          }
        : {
            transitionStatus: predictorReady ? 'UpToDate' : 'InProgress',
            states: { activeModelState: predictorReady ? 'Loaded' : 'Pending', targetModelState: 'Loaded' },
          },
    };
    this.store.writeStatus(ISVC, namespace, name, status);
  }
}
