import { describe, expect, test } from '@jest/globals';
import { ConfigError } from './config.js';
import {
  ALL_CONFIG_FRAGMENTS,
  artifactConfig,
  artifactLocationConfig,
  databaseConfig,
  gatewayClusterConfig,
  graphqlConfig,
  httpConfig,
  loadConfig,
  redisConfig,
  s3Config,
} from './config-fragments.js';

function problemOf(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('configuration fragments', () => {
  test('defaults, as the README documents them', () => {
    const config = loadConfig({}, ALL_CONFIG_FRAGMENTS);
    expect(config).toEqual({
      host: '127.0.0.1',
      port: 5000,
      logLevel: 'info',
      bodyLimit: 32 * 1024 * 1024,
      shutdownTimeoutMs: 10_000,
      expensiveRequests: { concurrency: 2, queueSize: 64 },
      staticPrefix: '',
      allowedHosts: undefined,
      backendStoreUri: './mast-data/db',
      dbPoolSize: 20,
      dbStatementTimeoutMs: 300_000,
      dbStartupTimeoutMs: 300_000,
      defaultArtifactRoot: 'mlflow-artifacts:/',
      artifactsDestination: './mast-data/artifacts',
      serveArtifacts: true,
      artifactMaxUploadBytes: 5 * 1024 ** 4,
      artifactAllowedRoots: [],
      trackingUrl: undefined,
      s3: {
        endpointUrl: undefined,
        accessKeyId: undefined,
        secretAccessKey: undefined,
        sessionToken: undefined,
        region: 'us-east-1',
        pathStyle: undefined,
        presignedDownloads: false,
        timeoutMs: 30_000,
        partSize: 8 * 1024 * 1024,
      },
      redisUrl: undefined,
      graphql: {
        introspection: true,
        maxDepth: 12,
        maxCost: 250_000,
        maxPageSize: 1000,
        cacheMaxAge: 0,
        corsOrigins: [],
      },
      serviceUrls: {},
      subgraphUrls: {},
      supergraph: undefined,
    });
  });

  test('a process reads only its fragments: tracking ignores a bad gateway or S3 variable', () => {
    const env = { MAST_SERVICE_URLS: 'garbage', MAST_S3_PART_SIZE: '1', MAST_PORT: '7000' };
    const tracking = loadConfig(env, [httpConfig, databaseConfig, artifactLocationConfig, graphqlConfig]);
    expect(tracking.port).toBe(7000);
    expect(Object.keys(tracking)).not.toContain('serviceUrls');
    expect(problemOf(() => loadConfig(env, [httpConfig, gatewayClusterConfig])).message).toBe(
      "MAST_SERVICE_URLS: expected name=url pairs, got 'garbage'",
    );
    // The artifact process opens no database.
    expect(
      loadConfig({ MAST_DB_POOL_SIZE: 'x' }, [httpConfig, artifactLocationConfig, artifactConfig, s3Config]),
    ).not.toHaveProperty('dbPoolSize');
  });

  test('every problem in one error, naming each variable', () => {
    const error = problemOf(() =>
      loadConfig(
        {
          MAST_PORT: '70000',
          MAST_LOG_LEVEL: 'loud',
          MAST_S3_PART_SIZE: '1024',
          MAST_SERVE_ARTIFACTS: 'maybe',
          MAST_SUBGRAPH_URLS: '=x',
        },
        ALL_CONFIG_FRAGMENTS,
      ),
    );
    expect(error.problems.map((problem) => problem.variable)).toEqual([
      'MAST_PORT',
      'MAST_LOG_LEVEL',
      'MAST_SERVE_ARTIFACTS',
      'MAST_S3_PART_SIZE',
      'MAST_SUBGRAPH_URLS',
    ]);
    expect(error.message).not.toContain('\n');
    expect(error.message).toContain(
      "MAST_LOG_LEVEL: expected one of fatal, error, warn, info, debug, trace, silent, got 'loud'",
    );
    expect(error.message).toContain('MAST_S3_PART_SIZE: expected a part size of at least 5 MiB (5242880)');
    expect(problemOf(() => loadConfig({ MAST_SUBGRAPH_URLS: '=x' }, [gatewayClusterConfig])).message).toBe(
      "MAST_SUBGRAPH_URLS: expected name=url pairs, got '=x'",
    );
  });

  test('a variable set by a CLI flag is named by the flag', () => {
    const error = problemOf(() =>
      loadConfig({ MAST_PORT: 'abc', MAST_BODY_LIMIT: 'big' }, [httpConfig], {
        sources: { MAST_PORT: '--port' },
      }),
    );
    expect(error.message).toBe(
      "--port: expected a port number (1-65535), got 'abc'; MAST_BODY_LIMIT: expected a positive integer, got 'big'",
    );
  });

  test('an empty value counts as unset', () => {
    const config = loadConfig(
      {
        MAST_PORT: '',
        MAST_HOST: '',
        MAST_SERVE_ARTIFACTS: '',
        REDIS_URL: '',
        MAST_DEFAULT_ARTIFACT_ROOT: '',
      },
      [httpConfig, artifactLocationConfig, redisConfig],
    );
    expect(config).toMatchObject({
      port: 5000,
      host: '127.0.0.1',
      serveArtifacts: true,
      redisUrl: undefined,
    });
    expect(config.defaultArtifactRoot).toBe('mlflow-artifacts:/');
  });

  test('values as before: booleans, lists, derived defaults', () => {
    const config = loadConfig(
      {
        MAST_SERVE_ARTIFACTS: 'No',
        MAST_ARTIFACTS_DESTINATION: '/data',
        MAST_ARTIFACT_ALLOWED_ROOTS: ' s3://a/b , /x ,',
        DATABASE_URL: 'postgresql://db/x',
        MLFLOW_S3_ENDPOINT_URL: 'http://minio:9000',
        AWS_DEFAULT_REGION: 'eu-west-1',
        MAST_S3_PATH_STYLE: 'YES',
        MAST_CORS_ORIGINS: 'https://a, https://b',
        MAST_SERVICE_URLS: 'tracking=http://t:5000, artifact = http://a:5000',
        REDIS_URL: 'redis://127.0.0.1:6379/2',
      },
      ALL_CONFIG_FRAGMENTS,
    );
    expect(config).toMatchObject({
      serveArtifacts: false,
      defaultArtifactRoot: '/data',
      artifactAllowedRoots: ['s3://a/b', '/x'],
      backendStoreUri: 'postgresql://db/x',
      s3: { endpointUrl: 'http://minio:9000', region: 'eu-west-1', pathStyle: true },
      graphql: { corsOrigins: ['https://a', 'https://b'] },
      serviceUrls: { tracking: 'http://t:5000', artifact: 'http://a:5000' },
      redisUrl: 'redis://127.0.0.1:6379/2',
    });
  });

  test('REDIS_URL: a bad port, database or scheme is one line naming REDIS_URL, without the password', () => {
    for (const [url, problem] of [
      ['redis://:s3cret@127.0.0.1:notaport', "the port 'notaport' is not a number from 1 to 65535"],
      ['redis://u:s3cret@127.0.0.1:99999/0', "the port '99999' is not a number from 1 to 65535"],
      ['rediss://u:s3/cr@t@cache:0', "the port '0' is not a number from 1 to 65535"],
      ['redis://u:s3cret@cache:6379/zero', "the database 'zero' is not a number"],
      ['http://u:s3cret@cache:6379', 'expected a redis:// or rediss:// URL'],
    ] as const) {
      const error = problemOf(() => loadConfig({ REDIS_URL: url }, [redisConfig]));
      expect(error.message.split('\n')).toHaveLength(1);
      expect(error.message).toMatch(/^REDIS_URL: .*, got '[a-z]+:\/\/\*\*\*@/);
      expect(error.message).toContain(problem);
      expect(error.message).not.toMatch(/s3cret|s3\/cr/);
    }
    for (const url of [
      'redis://cache',
      'redis://u:p@cache:6379/2',
      'rediss://[::1]:6380',
      'redis://cache/',
    ]) {
      expect(loadConfig({ REDIS_URL: url }, [redisConfig]).redisUrl).toBe(url);
    }
  });
});
