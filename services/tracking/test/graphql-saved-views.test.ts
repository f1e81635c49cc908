import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createHttpApp } from '@mast/common';
import { BACKENDS, type Backend, HttpClient, openTestDatabase } from '@mast/test-support';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { createTracking, prepareTrackingDatabase } from '../src/plugin.js';
import type { TrackingDatabase } from '../src/store/schema.js';

const VIEW_FIELDS = 'id page experimentId state name description owner shared viewerCanDelete';
const SAVE = `mutation Save($input: SaveViewInput!) { saveView(input: $input) { ${VIEW_FIELDS} } }`;
const GET = `query View($id: ID!) { view(id: $id) { ${VIEW_FIELDS} } }`;
const LIST = `query Views($page: String!, $experimentId: ID) {
  views(page: $page, experimentId: $experimentId) { ${VIEW_FIELDS} } }`;
const DELETE = `mutation Delete($id: ID!) { deleteView(id: $id) { id } }`;

interface View {
  id: string;
  page: string;
  experimentId: string | null;
  state: string;
  name: string | null;
  description: string;
  owner: string;
  shared: boolean;
  viewerCanDelete: boolean;
}

interface GraphQLBody<T> {
  data?: T | null;
  errors?: Array<{ message: string; extensions: { code: string } }>;
}

/** How a request names its user: an authenticating proxy's headers, Basic auth, or nothing. */
type As = { user: string; via?: 'x-forwarded-user' | 'x-auth-request-user' | 'basic' } | 'anonymous';

function headersOf(as: As): Record<string, string> {
  if (as === 'anonymous') return {};
  const via = as.via ?? 'x-forwarded-user';
  if (via === 'basic') {
    return { authorization: `Basic ${Buffer.from(`${as.user}:secret`).toString('base64')}` };
  }
  return { [via]: as.user };
}

const alice: As = { user: 'alice' };
const bob: As = { user: 'bob' };

async function startServer(backend: Backend) {
  const database = await openTestDatabase<TrackingDatabase>(backend);
  const deps = { db: database.db, defaultArtifactRoot: 'mlflow-artifacts:/' };
  await prepareTrackingDatabase(deps);
  const app: FastifyInstance = createHttpApp({ logLevel: 'silent', bodyLimit: 1024 * 1024 }).app;
  const tracking = createTracking(deps);
  await tracking.registerRest(app);
  tracking.registerSubgraph(app);
  const http = new HttpClient(await app.listen({ host: '127.0.0.1', port: 0 }));
  async function graphql<T>(as: As, query: string, variables: Record<string, unknown>) {
    return (await http.request('POST', '/graphql', { query, variables }, headersOf(as)))
      .body as GraphQLBody<T>;
  }
  async function save(as: As, input: Record<string, unknown>): Promise<View> {
    const body = await graphql<{ saveView: View }>(as, SAVE, { input });
    expect(body.errors).toBeUndefined();
    return body.data!.saveView;
  }
  async function list(as: As, page: string, experimentId?: string): Promise<View[]> {
    const body = await graphql<{ views: View[] }>(as, LIST, { page, experimentId });
    expect(body.errors).toBeUndefined();
    return body.data!.views;
  }
  async function errorCode(as: As, query: string, variables: Record<string, unknown>) {
    const body = await graphql(as, query, variables);
    expect(body.data ?? null).toBeNull();
    return body.errors?.[0]?.extensions.code;
  }
  async function close() {
    await app.close();
    await database.close();
  }
  return { database, http, graphql, save, list, errorCode, close };
}

/**
 * Issue 14, item 3 (ui.md goals G9, G10): the tracking subgraph stores the web UI's page states. Short
 * links (unnamed views) dedupe by state; named views belong to the request's user, personal or shared.
 */
describe.each(BACKENDS)('saved views (%s)', (backend) => {
  let server: Awaited<ReturnType<typeof startServer>>;
  let experimentId: string;
  let otherExperimentId: string;

  beforeAll(async () => {
    server = await startServer(backend);
    const create = async (name: string) =>
      (await server.http.post('/api/2.0/mlflow/experiments/create', { name })).body.experiment_id as string;
    experimentId = await create('views');
    otherExperimentId = await create('other views');
  });
  afterAll(async () => {
    await server?.close();
  });

  test('a short link: a 10-character id derived from the state, the same for anyone saving it', async () => {
    const state = `filter=metrics.loss%20%3C%201&cols=${'m:x,'.repeat(500)}`;
    const first = await server.save(alice, { page: 'runs', experimentId, state });
    expect(first.id).toMatch(/^[0-9A-Za-z]{10}$/);
    expect(first).toMatchObject({ name: null, shared: false, owner: 'alice', experimentId, state });
    const again = await server.save(bob, { page: 'runs', experimentId, state });
    expect(again.id).toBe(first.id);
    expect(again.owner).toBe('alice');
    expect((await server.save(bob, { page: 'runs', experimentId, state: `${state}x` })).id).not.toBe(
      first.id,
    );
    expect((await server.save(bob, { page: 'compare', state })).id).not.toBe(first.id);
    // Anyone with the link opens it; links are not listed, nor deleted.
    for (const as of [alice, bob, 'anonymous'] as As[]) {
      const body = await server.graphql<{ view: View }>(as, GET, { id: first.id });
      expect(body.data?.view.state).toBe(state);
      expect(body.data?.view.viewerCanDelete).toBe(false);
    }
    expect(await server.list(alice, 'runs', experimentId)).toEqual([]);
    expect(await server.errorCode(alice, DELETE, { id: first.id })).toBe('PERMISSION_DENIED');
  });

  test('personal views are their owner’s only; shared ones everyone’s (G10)', async () => {
    const mine = await server.save(alice, {
      page: 'compare',
      state: 'runs=a,b',
      name: 'mine',
      description: ' two runs ',
    });
    const team = await server.save(alice, { page: 'compare', state: 'runs=c', name: 'team', shared: true });
    expect(mine).toMatchObject({ name: 'mine', description: 'two runs', shared: false, owner: 'alice' });
    expect(team).toMatchObject({ shared: true, viewerCanDelete: true });
    const names = async (as: As) => (await server.list(as, 'compare')).map((v) => `${v.owner}/${v.name}`);
    expect(await names(alice)).toEqual(['alice/mine', 'alice/team']);
    expect(await names(bob)).toEqual(['alice/team']);
    expect(await names('anonymous')).toEqual(['alice/team']);
    // The same user however the request names it.
    expect(await names({ user: 'alice', via: 'basic' })).toEqual(['alice/mine', 'alice/team']);
    expect(await names({ user: 'alice', via: 'x-auth-request-user' })).toEqual(['alice/mine', 'alice/team']);
    expect(await server.errorCode(bob, GET, { id: mine.id })).toBe('RESOURCE_DOES_NOT_EXIST');
    const seen = await server.graphql<{ view: View }>(bob, GET, { id: team.id });
    expect(seen.data?.view).toMatchObject({ state: 'runs=c', viewerCanDelete: false });
    // Only the owner deletes; another's personal view does not exist for them.
    expect(await server.errorCode(bob, DELETE, { id: team.id })).toBe('PERMISSION_DENIED');
    expect(await server.errorCode(bob, DELETE, { id: mine.id })).toBe('RESOURCE_DOES_NOT_EXIST');
    const deleted = await server.graphql<{ deleteView: { id: string } }>(alice, DELETE, { id: mine.id });
    expect(deleted.data?.deleteView.id).toBe(mine.id);
    expect(await server.errorCode(alice, GET, { id: mine.id })).toBe('RESOURCE_DOES_NOT_EXIST');
    expect(await names(alice)).toEqual(['alice/team']);
  });

  test('a name is per owner, page and experiment; saving it again replaces the view', async () => {
    const first = await server.save(alice, { page: 'runs', experimentId, state: 'sort=a', name: 'best' });
    const replaced = await server.save(alice, {
      page: 'runs',
      experimentId,
      state: 'sort=b',
      name: 'best',
      shared: true,
    });
    expect(replaced.id).toBe(first.id);
    expect(replaced).toMatchObject({ state: 'sort=b', shared: true });
    const bobs = await server.save(bob, { page: 'runs', experimentId, state: 'sort=c', name: 'best' });
    const elsewhere = await server.save(alice, {
      page: 'runs',
      experimentId: otherExperimentId,
      state: 'sort=d',
      name: 'best',
    });
    expect(new Set([first.id, bobs.id, elsewhere.id]).size).toBe(3);
    const listed = await server.list(bob, 'runs', experimentId);
    expect(listed.map((v) => [v.owner, v.state])).toEqual([
      ['alice', 'sort=b'],
      ['bob', 'sort=c'],
    ]);
    expect((await server.list(alice, 'runs', otherExperimentId)).map((v) => v.state)).toEqual(['sort=d']);
  });

  test('bad views are INVALID_PARAMETER_VALUE or RESOURCE_DOES_NOT_EXIST', async () => {
    // 64 KiB of state is stored; one byte more is not (bytes, not characters: 'é' is two).
    const limit = 64 * 1024;
    const full = await server.save(alice, { page: 'runs', state: 'é'.repeat(limit / 2) });
    expect(full.state).toHaveLength(limit / 2);
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ page: 'runs', state: `${'é'.repeat(limit / 2)}x` }, 'INVALID_PARAMETER_VALUE'],
      [{ page: 'Runs page', state: 'a=1' }, 'INVALID_PARAMETER_VALUE'],
      [{ page: 'runs', state: 'a=1', name: 'n'.repeat(257) }, 'INVALID_PARAMETER_VALUE'],
      [{ page: 'runs', state: 'a=1', shared: true }, 'INVALID_PARAMETER_VALUE'],
      [{ page: 'runs', state: 'a=1', description: 'no name' }, 'INVALID_PARAMETER_VALUE'],
      [{ page: 'runs', state: 'a=1', experimentId: '999999' }, 'RESOURCE_DOES_NOT_EXIST'],
      [{ page: 'runs', state: 'a=1', experimentId: 'x' }, 'RESOURCE_DOES_NOT_EXIST'],
    ];
    for (const [input, code] of cases)
      expect([input, await server.errorCode(alice, SAVE, { input })]).toEqual([input, code]);
    expect(await server.errorCode(alice, GET, { id: 'nope' })).toBe('RESOURCE_DOES_NOT_EXIST');
    expect(await server.errorCode(alice, GET, { id: 'AAAAAAAAAA' })).toBe('RESOURCE_DOES_NOT_EXIST');
  });
});

/**
 * Conflicting saves at once, on PostgreSQL's concurrency (one connection each): the database's unique
 * indexes decide, not a read-then-write in Node.
 */
describe('saved views under concurrent saves (postgres)', () => {
  let server: Awaited<ReturnType<typeof startServer>>;

  beforeAll(async () => {
    server = await startServer('postgres');
  });
  afterAll(async () => {
    await server?.close();
  });

  const rows = async (where: ReturnType<typeof sql<boolean>>) =>
    (
      await sql<{
        view_id: string;
        state: string;
      }>`select view_id, state from tracking.saved_views where ${where}`.execute(server.database.db)
    ).rows;

  test('the same unnamed state from 10 clients at once: one id, one row', async () => {
    const state = `cols=${'p:lr,'.repeat(600)}`;
    const saved = await Promise.all(
      Array.from({ length: 10 }, (_, i) => server.save({ user: `user-${i}` }, { page: 'runs', state })),
    );
    expect(new Set(saved.map((view) => view.id)).size).toBe(1);
    expect(await rows(sql<boolean>`state = ${state}`)).toHaveLength(1);
  });

  test('the same name by one owner from 10 clients at once: one view holding one of the states', async () => {
    const states = Array.from({ length: 10 }, (_, i) => `sort=${i}`);
    const saved = await Promise.all(
      states.map((state) => server.save(alice, { page: 'compare', state, name: 'racy', shared: true })),
    );
    expect(new Set(saved.map((view) => view.id)).size).toBe(1);
    const stored = await rows(sql<boolean>`name = 'racy'`);
    expect(stored).toHaveLength(1);
    expect(states).toContain(stored[0]!.state);
    const listed = await server.list(bob, 'compare');
    expect(listed.map((view) => [view.id, view.state])).toEqual([[saved[0]!.id, stored[0]!.state]]);
  });

  test('the same name by 10 owners at once: 10 views', async () => {
    const saved = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        server.save({ user: `owner-${i}` }, { page: 'charts', state: `x=${i}`, name: 'mine', shared: true }),
      ),
    );
    expect(new Set(saved.map((view) => view.id)).size).toBe(10);
    expect(await server.list('anonymous', 'charts')).toHaveLength(10);
  });
});
