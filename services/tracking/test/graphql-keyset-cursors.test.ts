import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { BACKENDS, type HttpClient } from '@mast/test-support';
import { startTrackingServer, type TrackingServer } from './harness.js';

const RUNS_QUERY = `
  query Runs($ids: [ID!]!, $orderBy: [String!], $first: Int!, $after: String) {
    runs(experimentIds: $ids, orderBy: $orderBy, first: $first, after: $after) {
      edges { cursor node { id } }
      pageInfo { hasNextPage endCursor }
    }
  }`;

const EXPERIMENT_RUNS_QUERY = `
  query ExperimentRuns($id: ID!, $orderBy: [String!], $first: Int!, $after: String) {
    experiment(id: $id) {
      runs(orderBy: $orderBy, first: $first, after: $after) {
        nodes { id }
        pageInfo { hasNextPage endCursor }
      }
    }
  }`;

interface GraphQLBody<T> {
  data?: T;
  errors?: Array<{ message: string; extensions: { code: string } }>;
}

interface PageInfo {
  hasNextPage: boolean;
  endCursor: string | null;
}

/** A small deterministic generator (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The orders paged through: every kind of sort key, in both directions, with ties and missing values. */
const ORDERS: Array<string[] | null> = [
  null,
  ['metrics.score DESC'],
  ['metrics.score ASC', 'params.p DESC'],
  ['params.p ASC'],
  ['tags.t DESC', 'attributes.run_name ASC'],
  ['attributes.end_time ASC'],
  ['attributes.end_time DESC', 'metrics.score DESC'],
];

/**
 * Issue 14, item 5: GraphQL's runs connections page with keyset cursors (the last run's sort key
 * values and id), so runs created between two pages neither repeat nor push runs off a page.
 */
describe.each(BACKENDS)('keyset cursors of runs connections (%s)', (backend) => {
  let server: TrackingServer;
  let http: HttpClient;
  const next = random(14);
  let serial = 0;

  async function graphql<T>(query: string, variables: Record<string, unknown>): Promise<GraphQLBody<T>> {
    return (await http.post('/graphql', { query, variables })).body as GraphQLBody<T>;
  }

  /** A run with random sort values from small domains: ties, missing keys, NaN, unfinished runs. */
  async function createRandomRun(experimentId: string): Promise<string> {
    const pick = <T>(values: T[]): T => values[Math.floor(next() * values.length)]!;
    const start = pick([1000, 2000, 3000]);
    const run = await http.post('/api/2.0/mlflow/runs/create', {
      experiment_id: experimentId,
      run_name: pick(['a', 'b', 'c']) + String(serial++ % 4),
      start_time: start,
    });
    const runId = run.body.run.info.run_id as string;
    const score = pick([undefined, 'NaN', 0.5, 1, 2, -3]);
    const param = pick([undefined, 'x', 'y', 'z']);
    const tag = pick([undefined, 'red', 'blue']);
    await http.post('/api/2.0/mlflow/runs/log-batch', {
      run_id: runId,
      metrics: score === undefined ? [] : [{ key: 'score', value: score, timestamp: 1, step: 0 }],
      params: param === undefined ? [] : [{ key: 'p', value: param }],
      tags: tag === undefined ? [] : [{ key: 't', value: tag }],
    });
    const end = pick([undefined, start + 10, start + 20]);
    if (end !== undefined) {
      await http.post('/api/2.0/mlflow/runs/update', { run_id: runId, status: 'FINISHED', end_time: end });
    }
    return runId;
  }

  async function page(experimentId: string, orderBy: string[] | null, first: number, after?: string) {
    const body = await graphql<{
      runs: { edges: Array<{ cursor: string; node: { id: string } }>; pageInfo: PageInfo };
    }>(RUNS_QUERY, { ids: [experimentId], orderBy, first, after: after ?? null });
    expect(body.errors).toBeUndefined();
    const { edges, pageInfo } = body.data!.runs;
    expect(pageInfo.endCursor).toBe(edges.at(-1)?.cursor ?? null);
    return { ids: edges.map((edge) => edge.node.id), ...pageInfo };
  }

  beforeAll(async () => {
    server = await startTrackingServer(backend);
    http = server.client;
  });
  afterAll(async () => server?.close());

  test.each(
    ORDERS.map((order): [string, string[] | null] => [order ? order.join(', ') : 'default order', order]),
  )(
    'paging by %s while runs are created between pages: no run skipped or repeated',
    async (_name, orderBy) => {
      const { body } = await http.post('/api/2.0/mlflow/experiments/create', { name: `keyset ${serial++}` });
      const experimentId = body.experiment_id as string;
      const initial: string[] = [];
      for (let i = 0; i < 15; i++) initial.push(await createRandomRun(experimentId));

      const seen: string[] = [];
      /** Runs created after each page, and the last run seen when they were. */
      const addedAfter: Array<{ lastSeen: string; runIds: string[] }> = [];
      let cursor: string | undefined;
      for (;;) {
        const current = await page(experimentId, orderBy, 4, cursor);
        seen.push(...current.ids);
        if (!current.hasNextPage) break;
        cursor = current.endCursor!;
        const runIds = [await createRandomRun(experimentId), await createRandomRun(experimentId)];
        addedAfter.push({ lastSeen: current.ids.at(-1)!, runIds });
      }

      // The oracle: every run now, in one page.
      const all = (await page(experimentId, orderBy, 1000)).ids;
      const place = new Map(all.map((id, i) => [id, i]));
      expect(new Set(seen).size).toBe(seen.length);
      for (const id of initial) expect(seen).toContain(id);
      // The pages, put together, are in the order itself.
      const places = seen.map((id) => place.get(id)!);
      expect(places).toEqual([...places].sort((a, b) => a - b));
      // A run created after a page is listed exactly when it sorts after that page's last run.
      let before = 0;
      let after = 0;
      for (const { lastSeen, runIds } of addedAfter) {
        for (const id of runIds) {
          const sortsAfter = place.get(id)! > place.get(lastSeen)!;
          if (sortsAfter) after++;
          else before++;
          expect([id, seen.includes(id)]).toEqual([id, sortsAfter]);
        }
      }
      console.log(
        `${backend} ${orderBy?.join(', ') ?? 'default'}: ${seen.length} runs seen of ${all.length}; ` +
          `created between pages: ${before} before the cursor, ${after} after`,
      );
    },
  );

  test('Experiment.runs pages with the same cursors', async () => {
    const { body } = await http.post('/api/2.0/mlflow/experiments/create', { name: 'keyset experiment' });
    const experimentId = body.experiment_id as string;
    for (let i = 0; i < 5; i++) await createRandomRun(experimentId);
    const orderBy = ['params.p ASC'];
    const expected = (await page(experimentId, orderBy, 100)).ids;
    const ids: string[] = [];
    let after: string | null = null;
    do {
      const answer: GraphQLBody<{
        experiment: { runs: { nodes: Array<{ id: string }>; pageInfo: PageInfo } };
      }> = await graphql(EXPERIMENT_RUNS_QUERY, { id: experimentId, orderBy, first: 2, after });
      expect(answer.errors).toBeUndefined();
      const { nodes, pageInfo } = answer.data!.experiment.runs;
      ids.push(...nodes.map((node) => node.id));
      after = pageInfo.hasNextPage ? pageInfo.endCursor : null;
    } while (after !== null);
    expect(ids).toEqual(expected);
  });

  test('a cursor that is not one of the same query is INVALID_PARAMETER_VALUE', async () => {
    const { body } = await http.post('/api/2.0/mlflow/experiments/create', { name: 'keyset errors' });
    const experimentId = body.experiment_id as string;
    for (let i = 0; i < 3; i++) await createRandomRun(experimentId);
    const byScore = await page(experimentId, ['metrics.score DESC'], 1);
    const decoded = JSON.parse(Buffer.from(byScore.endCursor!, 'base64url').toString()) as {
      o: string;
      k: Array<string | null>;
    };
    const tampered = Buffer.from(JSON.stringify({ ...decoded, k: decoded.k.map(() => 'abc') })).toString(
      'base64url',
    );
    const cases: Array<[string, string[] | null]> = [
      ['not a cursor', null],
      [byScore.endCursor!, ['params.p ASC']],
      [byScore.endCursor!, null],
      [tampered, ['metrics.score DESC']],
    ];
    for (const [after, orderBy] of cases) {
      const answer = await graphql(RUNS_QUERY, { ids: [experimentId], orderBy, first: 1, after });
      expect(answer.data).toBeNull();
      expect(answer.errors?.[0]?.extensions.code).toBe('INVALID_PARAMETER_VALUE');
      expect(answer.errors?.[0]?.message).toMatch(/^Invalid cursor/);
    }
  });
});
