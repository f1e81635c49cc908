import { describe, expect, test } from '@jest/globals';
import { artifactLocationConfig, databaseConfig, graphqlConfig, redisConfig } from './config-fragments.js';
import { ShutdownRegistry } from './process.js';
import {
  defineService,
  lazyQueue,
  owningService,
  restRoutes,
  type ServiceDescriptor,
  serviceConfigFragments,
} from './service-descriptor.js';

const withTables = defineService({
  name: 'alpha',
  config: [artifactLocationConfig, graphqlConfig],
  migrations: { schema: 'alpha', migrations: {} },
  rest: { apiPaths: ['/mlflow/'], paths: ['/api/3.0/mlflow/'] },
  create: async () => ({}),
});
const withoutTables: ServiceDescriptor = defineService({
  name: 'beta',
  config: [graphqlConfig, redisConfig],
  rest: { apiPaths: ['/mlflow/beta/', '/mlflow/runs/*/beta/'], paths: ['/get-beta'] },
  create: async () => ({}),
});

describe('service descriptors', () => {
  test('REST ownership: every API prefix, longest prefix wins', () => {
    const routes = restRoutes([withTables, withoutTables]);
    expect(owningService(routes, '/api/2.0/mlflow/runs/get')).toBe('alpha');
    expect(owningService(routes, '/api/2.0/preview/mlflow/beta/x')).toBe('beta');
    expect(owningService(routes, '/ajax-api/2.0/mlflow/beta/x')).toBe('beta');
    expect(owningService(routes, '/get-beta?x=1')).toBe('beta');
    expect(owningService(routes, '/api/3.0/mlflow/traces')).toBe('alpha');
    expect(owningService(routes, '/health')).toBeUndefined();
  });

  test('REST ownership: a `*` in a path matches one segment, and the longer route wins', () => {
    const routes = restRoutes([withTables, withoutTables]);
    expect(owningService(routes, '/api/2.0/mlflow/runs/r1/beta/x')).toBe('beta');
    expect(owningService(routes, '/ajax-api/2.0/mlflow/runs/r1/beta/')).toBe('beta');
    expect(owningService(routes, '/api/2.0/mlflow/runs/r1')).toBe('alpha');
    expect(owningService(routes, '/api/2.0/mlflow/runs/r1/other/beta/')).toBe('alpha');
    expect(owningService(routes, '/api/2.0/mlflow/runs//beta/')).toBe('alpha');
    expect(owningService(routes, '/api/2.0/mlflow/runs/get?x=/beta/')).toBe('alpha');
  });

  test('configuration fragments: each once, the database one implied by migrations', () => {
    expect(serviceConfigFragments([withTables, withoutTables])).toEqual([
      databaseConfig,
      artifactLocationConfig,
      graphqlConfig,
      redisConfig,
    ]);
    expect(serviceConfigFragments([withoutTables])).not.toContain(databaseConfig);
  });

  test('the queue opens on first use, in-process without REDIS_URL, and closes on shutdown', async () => {
    const shutdown = new ShutdownRegistry();
    const queue = lazyQueue({ redisUrl: undefined }, shutdown);
    expect(shutdown.names).toEqual([]);
    expect(queue().kind).toBe('in-process');
    expect(queue()).toBe(queue());
    expect(shutdown.names).toEqual(['queue connection']);
    await shutdown.closeAll();
    expect(() => lazyQueue({}, shutdown)()).toThrow(/add redisConfig/);
  });
});
