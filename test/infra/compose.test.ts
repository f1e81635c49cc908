/**
 * infra/compose.yaml (PostgreSQL, Redis, MinIO for `mast server` on a laptop): it parses, pins every
 * image, publishes the usual ports, and the commands infra/README.md gives for `mast server` use its
 * credentials, ports and bucket, and make a configuration Mast accepts. Docker is not on the test
 * machine: nothing here starts the containers.
 */
import { describe, expect, test } from '@jest/globals';
import { loadAllInOneConfig } from '../../services/gateway/src/services.js';
import { read, yamlDocuments } from './support.js';

interface ComposeService {
  image: string;
  environment?: Record<string, string>;
  ports?: string[];
  command?: string[];
}

const compose = yamlDocuments(read('infra/compose.yaml'))[0] as { services: Record<string, ComposeService> };
const { postgres, redis, minio } = compose.services;

/** `host port -> container port` of a service's published ports (`[ip:]host:container`). */
function published(service: ComposeService): Map<number, number> {
  return new Map(
    (service.ports ?? []).map((port) => {
      const parts = port.split(':');
      return [Number(parts.at(-2)), Number(parts.at(-1))];
    }),
  );
}

/** The environment the README's `mast server` command sets: its `NAME=value` words. */
function readmeEnvironment(): Record<string, string> {
  const block = read('infra/README.md').match(/```sh\n([\s\S]*?)```/)?.[1];
  if (!block) throw new Error('infra/README.md has no sh block');
  const command = block.replace(/\\\n/g, ' ');
  expect(command).toMatch(/docker compose -f infra\/compose\.yaml up -d/);
  expect(command).toMatch(/\bnpx mast server\b/);
  return Object.fromEntries(
    [...command.matchAll(/\b([A-Z][A-Z0-9_]*)=(\S+)/g)].map(([, name, value]) => [name, value]),
  );
}

describe('infra/compose.yaml', () => {
  test('PostgreSQL, Redis and MinIO, every image pinned to a version (never latest)', () => {
    expect(Object.keys(compose.services)).toEqual(expect.arrayContaining(['postgres', 'redis', 'minio']));
    for (const [name, service] of Object.entries(compose.services)) {
      const tag = service.image.split(':')[1];
      expect([name, tag]).toEqual([name, expect.stringMatching(/^(\d+\.\d+(\.\d+)?|RELEASE\.[0-9T-]+Z)$/)]);
    }
  });

  test('publishes 5432, 6379 and 9000 on loopback', () => {
    expect(published(postgres).get(5432)).toBe(5432);
    expect(published(redis).get(6379)).toBe(6379);
    expect(published(minio).get(9000)).toBe(9000);
    for (const service of Object.values(compose.services))
      for (const port of service.ports ?? []) expect(port).toMatch(/^127\.0\.0\.1:/);
  });

  test("the README's mast server command uses the compose file's credentials, ports and bucket", () => {
    const env = readmeEnvironment();
    const database = new URL(env.MAST_BACKEND_STORE_URI);
    expect({
      user: database.username,
      password: database.password,
      database: database.pathname.slice(1),
      port: Number(database.port),
    }).toEqual({
      user: postgres.environment!.POSTGRES_USER,
      password: postgres.environment!.POSTGRES_PASSWORD,
      database: postgres.environment!.POSTGRES_DB,
      port: [...published(postgres).keys()][0],
    });
    expect(Number(new URL(env.REDIS_URL).port)).toBe(6379);
    expect(Number(new URL(env.MAST_S3_ENDPOINT_URL).port)).toBe(9000);
    expect([env.AWS_ACCESS_KEY_ID, env.AWS_SECRET_ACCESS_KEY]).toEqual([
      minio.environment!.MINIO_ROOT_USER,
      minio.environment!.MINIO_ROOT_PASSWORD,
    ]);
    // the bucket the README writes to is the one the compose file creates, with the same credentials
    const bucket = new URL(env.MAST_ARTIFACTS_DESTINATION).host;
    const init = compose.services['minio-bucket'].command!.join(' ');
    expect(init).toContain(
      `mc alias set local http://minio:9000 ${env.AWS_ACCESS_KEY_ID} ${env.AWS_SECRET_ACCESS_KEY}`,
    );
    expect(init).toContain(`mc mb --ignore-existing local/${bucket}`);
  });

  test("mast server's configuration accepts the README's environment", () => {
    const env = readmeEnvironment();
    const config = loadAllInOneConfig(env);
    expect(config).toMatchObject({
      backendStoreUri: env.MAST_BACKEND_STORE_URI,
      redisUrl: env.REDIS_URL,
      artifactsDestination: env.MAST_ARTIFACTS_DESTINATION,
      s3: { endpointUrl: env.MAST_S3_ENDPOINT_URL, accessKeyId: env.AWS_ACCESS_KEY_ID },
    });
  });
});
