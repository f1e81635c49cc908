import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { V1Deployment } from '@kubernetes/client-node';
import { newDeployment, transition } from '../src/domain/deployment-state.js';
import { KubeClient } from '../src/kube/client.js';
import { renderDeployment } from '../src/kube/manifests.js';
import { rolloutDeployment } from '../src/kube/rollout.js';
import { ObjectWatch } from '../src/kube/watch.js';
import { type FakeKubeApiServer, startFakeKube, typeOfKind } from '../src/testing/fake-kube/index.js';

const image = (c: string) => `registry.example.com/models/iris@sha256:${c.repeat(64)}`;
const request = (c: string) => ({
  name: 'iris',
  namespace: 'ml',
  image: image(c),
  replicas: 1,
  minReadySeconds: 0,
});

let fake: FakeKubeApiServer;
let client: KubeClient;
let watch: ObjectWatch<V1Deployment> | undefined;
let errors: Error[];

beforeEach(async () => {
  fake = await startFakeKube();
  client = new KubeClient(fake.kubeConfig());
  errors = [];
});
afterEach(async () => {
  watch?.stop();
  watch = undefined;
  await fake.close();
});

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function startWatch(): ObjectWatch<V1Deployment> {
  watch = new ObjectWatch<V1Deployment>(
    client,
    { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'ml', fieldSelector: 'metadata.name=iris' },
    () => {},
    (error) => errors.push(error),
  );
  watch.start();
  return watch;
}

const imageOf = (w: ObjectWatch<V1Deployment>) =>
  w.objects.get('iris')?.spec?.template.spec?.containers[0].image;
const watchRequests = () => fake.requests.filter((r) => r.query.get('watch') === 'true');
const listRequests = () =>
  fake.requests.filter(
    (r) => r.method === 'GET' && r.path.endsWith('/deployments') && r.query.get('watch') === null,
  );

describe('ObjectWatch (fake Kubernetes API server over HTTP)', () => {
  it('lists, then watches from the list resourceVersion with bookmarks', async () => {
    await client.apply(renderDeployment(request('a')));
    const w = startWatch();
    await until(() => fake.watchCount() === 1, 'the watch');
    expect(imageOf(w)).toBe(image('a'));
    const [first] = watchRequests();
    expect(first.query.get('resourceVersion')).toBe(fake.store.currentRv());
    expect(first.query.get('allowWatchBookmarks')).toBe('true');
    expect(first.query.get('timeoutSeconds')).toBe('300');
    expect(first.query.get('fieldSelector')).toBe('metadata.name=iris');
    await client.apply(renderDeployment(request('b')));
    await until(() => imageOf(w) === image('b'), 'the MODIFIED event');
  });

  it('resumes from the last resourceVersion after the stream is dropped, without re-listing', async () => {
    await client.apply(renderDeployment(request('a')));
    const w = startWatch();
    await until(() => fake.watchCount() === 1, 'the watch');
    await client.apply(renderDeployment(request('b')));
    await until(() => imageOf(w) === image('b'), 'the first change');
    const seen = fake.store.get(fake.deploymentsType, 'ml', 'iris')!.metadata.resourceVersion;
    fake.dropWatches();
    // A change while no stream is open is replayed from the event log on resume.
    await client.apply(renderDeployment(request('c')));
    await until(() => imageOf(w) === image('c'), 'the change made during the gap');
    expect(w.reconnects).toBe(1);
    expect(w.relists).toBe(0);
    expect(listRequests()).toHaveLength(1);
    const resumed = watchRequests()[1];
    expect(Number(resumed.query.get('resourceVersion'))).toBeGreaterThanOrEqual(Number(seen));
    expect(resumed.query.get('resourceVersion')).not.toBe('0');
  });

  it.each(['http', 'event'] as const)('re-lists after 410 Expired (%s) and catches up', async (mode) => {
    fake.expiredWatchAs = mode;
    await client.apply(renderDeployment(request('a')));
    const w = startWatch();
    await until(() => fake.watchCount() === 1, 'the watch');
    fake.dropWatches();
    await client.apply(renderDeployment(request('d')));
    fake.store.compact();
    await until(() => imageOf(w) === image('d'), 'the re-list');
    expect(w.relists).toBe(1);
    expect(listRequests()).toHaveLength(2);
    const refused = watchRequests()[1];
    expect(refused.status).toBe(mode === 'http' ? 410 : 200);
    await until(() => fake.watchCount() === 1, 'the watch after the re-list');
    expect(errors).toEqual([]);
  });

  it('moves its resume point on BOOKMARK events', async () => {
    await client.apply(renderDeployment(request('a')));
    const w = startWatch();
    await until(() => fake.watchCount() === 1, 'the watch');
    // Writes to other objects advance the resourceVersion without an event for this watch...
    fake.store.create(
      typeOfKind('v1', 'Service'),
      { metadata: { name: 'other', namespace: 'ml' }, spec: {} },
      'someone',
    );
    const latest = fake.store.currentRv();
    // ...until a bookmark (sent on every clock advance) carries it.
    await fake.tick();
    await new Promise((resolve) => setTimeout(resolve, 50));
    fake.dropWatches();
    await until(() => fake.watchCount() === 1, 'the resumed watch');
    expect(watchRequests()[1].query.get('resourceVersion')).toBe(latest);
    expect(w.relists).toBe(0);
  });

  it('ignores an unparsable line on the stream', async () => {
    await client.apply(renderDeployment(request('a')));
    const w = startWatch();
    await until(() => fake.watchCount() === 1, 'the watch');
    fake.sendGarbage();
    await client.apply(renderDeployment(request('e')));
    await until(() => imageOf(w) === image('e'), 'the change after the garbage');
    expect(w.reconnects).toBe(0);
  });

  it('stops with an error when watching is forbidden', async () => {
    fake.injectFailure({
      method: 'GET',
      plural: 'deployments',
      status: 403,
      reason: 'Forbidden',
      message: 'cannot list deployments',
    });
    startWatch();
    await until(() => errors.length === 1, 'the error');
    expect(errors[0].message).toBe(
      'list Deployment in ml refused by the Kubernetes API server: 403 Forbidden: cannot list deployments',
    );
  });

  it('a rollout survives dropped streams and a compaction mid-way', async () => {
    const t = new Date();
    const history = transition(transition(newDeployment(t, 'new'), 'BUILDING', 'b', t), 'BUILT', 'b', t);
    fake.setImageBehaviour(image('a'), { kind: 'healthy', readyAfterMs: 20_000 });
    const rollout = rolloutDeployment({ client, request: request('a'), history, jobTimeoutMs: 30_000 });
    await until(() => fake.watchCount() === 2, 'the Deployment and pod watches');
    await fake.tick(500, 4);
    fake.dropWatches();
    await until(() => fake.watchCount() === 2, 'the resumed watches');
    await fake.tick(500, 2);
    // Streams drop, something else is written and compacted before the watchers resume: 410 for them.
    fake.dropWatches();
    fake.store.create(
      typeOfKind('v1', 'Service'),
      { metadata: { name: 'other', namespace: 'ml' }, spec: {} },
      'someone',
    );
    fake.store.compact();
    const result = await fake.drive(rollout, 500);
    expect(result.history.state).toBe('LIVE');
    expect(result.history.transitions.at(-1)!.reason).toBe('deployment "iris" successfully rolled out');
    expect(watchRequests().filter((r) => r.status === 410).length).toBeGreaterThanOrEqual(1);
  });
});
