import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { BACKENDS } from '@mast/test-support';
import { API, createExperiment, expectEmptyOk, expectError, getExperiment } from './fixtures.js';
import { startTrackingServer, type TrackingServer } from './harness.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * SearchExperiments (spec §5.3, §5.4) over four experiments sharing a prefix, created a few ms apart:
 * e1 `<p>-alpha` {team: risk, env: Prod}, e2 `<p>-beta` {team: fraud}, e3 `<p>-gamma` (deleted),
 * e4 `<p>-delta` {env: prod}.
 */
describe.each(BACKENDS)('search experiments (%s)', (backend) => {
  let server: TrackingServer;
  const prefix = `sx${process.pid}`;
  const e: Record<string, string> = {};
  const inPrefix = `name LIKE '${prefix}-%'`;

  beforeAll(async () => {
    server = await startTrackingServer(backend);
    const specs: Array<[string, string, Array<{ key: string; value: string }>]> = [
      [
        'e1',
        'alpha',
        [
          { key: 'team', value: 'risk' },
          { key: 'env', value: 'Prod' },
        ],
      ],
      ['e2', 'beta', [{ key: 'team', value: 'fraud' }]],
      ['e3', 'gamma', []],
      ['e4', 'delta', [{ key: 'env', value: 'prod' }]],
    ];
    for (const [label, name, tags] of specs) {
      e[label] = await createExperiment(server.client, `${prefix}-${name}`, { tags });
      await sleep(3);
    }
    expectEmptyOk(await server.client.post(`${API}/experiments/delete`, { experiment_id: e.e3 }));
  });
  afterAll(async () => server.close());

  const search = (body: Record<string, unknown>) => server.client.post(`${API}/experiments/search`, body);

  async function labels(body: Record<string, unknown>): Promise<string[]> {
    const response = await search(body);
    expect(response.status).toBe(200);
    const byId = Object.fromEntries(Object.entries(e).map(([label, id]) => [id, label]));
    return (response.body.experiments ?? []).map((x: any) => byId[x.experiment_id] ?? x.name);
  }
  const filtered = (filter: string) => labels({ filter });

  test('results are full Experiment entities; default order creation_time DESC', async () => {
    const response = await search({ filter: inPrefix });
    expect(response.body.next_page_token).toBeUndefined();
    expect(response.body.experiments).toEqual([
      await getExperiment(server.client, e.e4!),
      await getExperiment(server.client, e.e2!),
      await getExperiment(server.client, e.e1!),
    ]);
    const all = await search({});
    expect(all.body.experiments.map((x: any) => x.name)).toContain('Default');
    expect(await filtered("name = 'Default'")).toEqual(['Default']);
  });

  test('name: = != LIKE ILIKE', async () => {
    expect(await filtered(`name = '${prefix}-alpha'`)).toEqual(['e1']);
    expect(await filtered(`attribute.name != '${prefix}-alpha' AND ${inPrefix}`)).toEqual(['e4', 'e2']);
    expect(await filtered(`name LIKE '${prefix}-%a'`)).toEqual(['e4', 'e2', 'e1']);
    expect(await filtered(`name LIKE '${prefix}-BETA'`)).toEqual([]);
    expect(await filtered(`name ILIKE '${prefix.toUpperCase()}-BETA'`)).toEqual(['e2']);
    expect(await filtered(`name like '${prefix}-_eta'`)).toEqual(['e2']);
    expect(await filtered(`name = "${prefix}-delta"`)).toEqual(['e4']);
  });

  test('tags: = != LIKE ILIKE; != and LIKE skip experiments lacking the tag', async () => {
    expect(await filtered("tags.team = 'risk'")).toEqual(['e1']);
    expect(await filtered(`tag.team != 'risk' AND ${inPrefix}`)).toEqual(['e2']);
    expect(await filtered("tags.env LIKE 'prod'")).toEqual(['e4']);
    expect(await filtered("tags.env ILIKE 'PROD'")).toEqual(['e4', 'e1']);
    expect(await filtered(`tags.team IS NULL AND ${inPrefix}`)).toEqual(['e4']);
    expect(await filtered("tags.`env` = 'Prod' and tags.team = 'risk'")).toEqual(['e1']);
  });

  test('creation_time and last_update_time compare numerically', async () => {
    const e2 = await getExperiment(server.client, e.e2!);
    expect(await filtered(`creation_time >= ${e2.creation_time} AND ${inPrefix}`)).toEqual(['e4', 'e2']);
    expect(await filtered(`creation_time > ${e2.creation_time} AND ${inPrefix}`)).toEqual(['e4']);
    expect(await filtered(`creation_time = ${e2.creation_time} AND ${inPrefix}`)).toEqual(['e2']);
    expect(await filtered(`creation_time != ${e2.creation_time} AND ${inPrefix}`)).toEqual(['e4', 'e1']);
    expect(await filtered(`attribute.creation_time < ${e2.creation_time} AND ${inPrefix}`)).toEqual(['e1']);
    expect(await filtered(`creation_time <= ${e2.creation_time - 0.5} AND ${inPrefix}`)).toEqual(['e1']);
    expect(await filtered(`last_update_time > 0 AND ${inPrefix}`)).toEqual(['e4', 'e2', 'e1']);
  });

  test('order_by name, experiment_id, creation_time, last_update_time', async () => {
    expect(await labels({ filter: inPrefix, order_by: ['name ASC'] })).toEqual(['e1', 'e2', 'e4']);
    expect(await labels({ filter: inPrefix, order_by: ['attribute.name DESC'] })).toEqual(['e4', 'e2', 'e1']);
    expect(await labels({ filter: inPrefix, order_by: ['creation_time ASC'] })).toEqual(['e1', 'e2', 'e4']);
    expect(await labels({ filter: inPrefix, order_by: ['creation_time'] })).toEqual(['e1', 'e2', 'e4']);
    expect(await labels({ filter: inPrefix, order_by: ['experiment_id DESC'] })).toEqual(['e4', 'e2', 'e1']);
    expect(await labels({ filter: inPrefix, order_by: ['experiment_id asc'] })).toEqual(['e1', 'e2', 'e4']);
    // Renaming bumps last_update_time.
    await sleep(3);
    expectEmptyOk(
      await server.client.post(`${API}/experiments/update`, {
        experiment_id: e.e2,
        new_name: `${prefix}-beta`,
      }),
    );
    expect(await labels({ filter: inPrefix, order_by: ['last_update_time DESC'] })).toEqual([
      'e2',
      'e4',
      'e1',
    ]);
    expect(await labels({ filter: inPrefix, order_by: ['last_update_time ASC', 'name DESC'] })).toEqual([
      'e1',
      'e4',
      'e2',
    ]);
  });

  test('view_type: ACTIVE_ONLY (default), DELETED_ONLY, ALL, by name or number', async () => {
    expect(await labels({ filter: inPrefix, view_type: 'ACTIVE_ONLY' })).toEqual(['e4', 'e2', 'e1']);
    expect(await labels({ filter: inPrefix, view_type: 'DELETED_ONLY' })).toEqual(['e3']);
    expect(await labels({ filter: inPrefix, view_type: 'ALL' })).toEqual(['e4', 'e3', 'e2', 'e1']);
    expect(await labels({ filter: inPrefix, view_type: 3 })).toEqual(['e4', 'e3', 'e2', 'e1']);
    // MLflow's parser ignores an unknown enum name (the default applies); an unknown number is a 400.
    expect(await labels({ filter: inPrefix, view_type: 'NONE' })).toEqual(['e4', 'e2', 'e1']);
    expectError(await search({ view_type: 7 }), 400, 'INVALID_PARAMETER_VALUE', /view_type/);
    expectError(await search({ view_type: '0' }), 400, 'INVALID_PARAMETER_VALUE', /view_type/);
  });

  test('paging: a token only when more rows exist; following tokens gathers all', async () => {
    for (const maxResults of [1, 2, 3, 4]) {
      const seen: string[] = [];
      let token: string | undefined;
      do {
        const response = await search({
          filter: inPrefix,
          view_type: 'ALL',
          max_results: maxResults,
          order_by: ['name ASC'],
          ...(token ? { page_token: token } : {}),
        });
        expect(response.status).toBe(200);
        const page = response.body.experiments ?? [];
        expect(page.length).toBeGreaterThan(0);
        token = response.body.next_page_token;
        seen.push(...page.map((x: any) => x.experiment_id));
        if (token === undefined) expect(seen).toHaveLength(4);
        else expect(page).toHaveLength(maxResults);
      } while (token);
      expect(seen).toEqual([e.e1, e.e2, e.e4, e.e3]);
    }
    expectError(await search({ page_token: 'zzz' }), 400, 'INVALID_PARAMETER_VALUE', /Invalid page token/);
  });

  test('GET form: query-string numbers, enums and repeated order_by', async () => {
    const viaPost = await search({
      filter: inPrefix,
      max_results: 2,
      order_by: ['name DESC'],
      view_type: 'ALL',
    });
    const viaGet = await server.client.get(`${API}/experiments/search`, {
      filter: inPrefix,
      max_results: '2',
      order_by: 'name DESC',
      view_type: 'ALL',
    });
    expect(viaGet.status).toBe(200);
    expect(viaGet.body).toEqual(viaPost.body);
    const next = await server.client.get(`${API}/experiments/search`, {
      filter: inPrefix,
      max_results: '2',
      order_by: ['name DESC'],
      view_type: 'ALL',
      page_token: viaGet.body.next_page_token,
    });
    expect(next.body.experiments.map((x: any) => x.experiment_id)).toEqual([e.e2, e.e1]);
    expect(next.body.next_page_token).toBeUndefined();
  });

  test('max_results: absent means 1000; 1..50000 accepted; 0 and 50001 are 400', async () => {
    expect((await search({})).status).toBe(200);
    expect((await search({ max_results: 50000 })).status).toBe(200);
    for (const max_results of [0, -5, 50001, 'x']) {
      expectError(await search({ max_results }), 400, 'INVALID_PARAMETER_VALUE', /max_results/);
    }
  });

  test('invalid filters and order_by are 400 INVALID_PARAMETER_VALUE', async () => {
    const badFilters = [
      'metrics.x > 1',
      "params.p = 'a'",
      "name > 'a'",
      "creation_time = 'abc'",
      'name = 5',
      "attributes.nope = 'x'",
      "tags.k > 'a'",
      "name IN ('a')",
      "name = 'a' OR",
      'creation_time IS NULL',
    ];
    for (const filter of badFilters) {
      const response = await search({ filter });
      expect({ filter, status: response.status, code: response.body?.error_code }).toEqual({
        filter,
        status: 400,
        code: 'INVALID_PARAMETER_VALUE',
      });
    }
    for (const order_by of [['tags.team'], ['nope'], ['name UP'], ['metrics.x'], ['name ASC DESC']]) {
      const response = await search({ order_by });
      expect({ order_by, status: response.status, code: response.body?.error_code }).toEqual({
        order_by,
        status: 400,
        code: 'INVALID_PARAMETER_VALUE',
      });
    }
  });
});
