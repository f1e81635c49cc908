import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createHttpApp, type Database, loadConfig } from '@mast/common';
import { HttpClient, openTestDatabase } from '@mast/test-support';
import {
  createTracking,
  prepareTrackingDatabase,
  TRACKING_SUBGRAPH,
  type TrackingDatabase,
  trackingTypeDefs,
} from '@mast/tracking';
import type { FastifyInstance } from 'fastify';
import { registerGraphQL } from '../src/graphql/server.js';
import { composeSupergraph, remoteGateway } from '../src/graphql/supergraph.js';
import { GraphQLClient, type InProcessServer, startInProcess } from './harness.js';

const SAVE = `mutation { saveView(input: { page: "runs", state: "a=1", name: "mine" }) { id owner } }`;
const LIST = `{ views(page: "runs") { id owner } }`;

const basic = (user: string) => ({ authorization: `Basic ${Buffer.from(`${user}:pw`).toString('base64')}` });

/**
 * The request's user reaches the subgraphs in both wirings: the gateway reads it (`X-Forwarded-User`,
 * `X-Auth-Request-User`, `Authorization: Basic`) and hands it to in-process subgraphs in the context, to
 * remote ones as `X-Forwarded-User`. Saved views (personal to their owner) show it.
 */
describe('the request user through the gateway (PostgreSQL)', () => {
  let inProcess: InProcessServer;
  let database: Database<TrackingDatabase>;
  let subgraphApp: FastifyInstance;
  let gatewayApp: FastifyInstance;
  let remote: GraphQLClient;

  beforeAll(async () => {
    inProcess = await startInProcess('postgres');
    database = await openTestDatabase<TrackingDatabase>('postgres');
    const deps = { db: database.db, defaultArtifactRoot: 'mlflow-artifacts:/' };
    await prepareTrackingDatabase(deps);
    subgraphApp = createHttpApp({ logLevel: 'silent', bodyLimit: 1024 * 1024 }).app;
    createTracking(deps).registerSubgraph(subgraphApp);
    const subgraphUrl = `${await subgraphApp.listen({ host: '127.0.0.1', port: 0 })}/graphql`;
    const gateway = createHttpApp({ logLevel: 'silent', bodyLimit: 1024 * 1024 });
    gatewayApp = gateway.app;
    const supergraphSdl = composeSupergraph([
      { name: TRACKING_SUBGRAPH, typeDefs: trackingTypeDefs(), url: subgraphUrl },
    ]);
    await registerGraphQL(gatewayApp, remoteGateway({ supergraphSdl, subgraphUrls: {} }), {
      config: loadConfig({}).graphql,
      metrics: gateway.metrics,
      logger: gatewayApp.log,
    });
    remote = new GraphQLClient(new HttpClient(await gatewayApp.listen({ host: '127.0.0.1', port: 0 })));
  });
  afterAll(async () => {
    await gatewayApp?.close();
    await subgraphApp?.close();
    await database?.close();
    await inProcess?.close();
  });

  test.each(['in-process', 'over HTTP'])('subgraphs %s see who sent the request', async (wiring) => {
    const client = wiring === 'in-process' ? inProcess.graphql : remote;
    const saved = await client.post<{ saveView: { id: string; owner: string } }>(SAVE, {}, basic('alice'));
    expect(saved.body.errors).toBeUndefined();
    expect(saved.body.data?.saveView.owner).toBe('alice');
    const owners = async (headers: Record<string, string>) =>
      (await client.post<{ views: Array<{ owner: string }> }>(LIST, {}, headers)).body.data?.views.map(
        (view) => view.owner,
      );
    expect(await owners({ 'x-auth-request-user': 'alice' })).toEqual(['alice']);
    expect(await owners({ 'x-forwarded-user': 'alice' })).toEqual(['alice']);
    expect(await owners(basic('bob'))).toEqual([]);
    expect(await owners({})).toEqual([]);
    const anonymous = await client.post<{ saveView: { owner: string } }>(SAVE);
    expect(anonymous.body.data?.saveView.owner).toBe('anonymous');
  });
});
