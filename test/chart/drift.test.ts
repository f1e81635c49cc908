import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import {
  type AnyConfigFragment,
  checkServicesConfig,
  composeConfig,
  createHttpApp,
  databaseConfig,
  type HttpConfig,
  httpAppOptions,
  httpConfig,
  serviceConfigFragments,
} from '@mast/common';
import {
  DEFAULT_MODEL_SERVER_IMAGE,
  DEFAULT_PYTHON_IMAGE,
  DEPLOY_WORKER_RULES,
  KSERVE_RULES,
} from '@mast/deploy';
import { GATEWAY_CONFIG, SERVICES } from '@mast/gateway';
import {
  chartMetadata,
  component,
  find,
  type Manifest,
  ofKind,
  podSpec,
  REPO_ROOT,
  renderValueSets,
  VALUE_SETS,
  workloads,
} from './support.js';

/**
 * No drift between the chart and the code: each rendered process gets only variables its
 * configuration fragments read, values they accept, and the port, probes and peers the code serves.
 */

const descriptor = (name: string) => {
  const found = SERVICES.find((service) => service.name === name);
  if (!found) throw new Error(`no service ${name} in SERVICES`);
  return found;
};

/** A service's process reads HTTP plus its descriptor's fragments (as `runService` composes them). */
const serviceProcess = (name: string) => ({
  fragments: [httpConfig, ...serviceConfigFragments([descriptor(name)])],
  descriptor: descriptor(name),
});

/** What each rendered workload runs, by its `app.kubernetes.io/component` label. */
const PROCESSES: Record<
  string,
  { fragments: readonly AnyConfigFragment[]; descriptor?: ReturnType<typeof descriptor> }
> = {
  gateway: { fragments: GATEWAY_CONFIG },
  tracking: serviceProcess('tracking'),
  registry: serviceProcess('registry'),
  artifact: serviceProcess('artifact'),
  'deploy-api': serviceProcess('deploy'),
  'deploy-worker': serviceProcess('deploy'),
  // `mast db upgrade` reads the database fragment only (services/client/src/cli.ts).
  migrate: { fragments: [databaseConfig] },
};

const variablesOf = (fragments: readonly AnyConfigFragment[]) =>
  new Set(fragments.flatMap((fragment) => Object.keys(fragment.schema.shape)));

/** Stand-ins for values read from Secrets the user provides (existingSecret). */
const SECRET_SAMPLES: Record<string, string> = {
  MAST_BACKEND_STORE_URI: 'postgresql://mast:secret@postgres:5432/mast',
  REDIS_URL: 'redis://redis:6379/0',
  AWS_ACCESS_KEY_ID: 'access-key',
  AWS_SECRET_ACCESS_KEY: 'secret-key',
};

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string } };
}

/** The container's environment as the process sees it: Secrets the chart made are decoded, others sampled. */
function environment(manifests: Manifest[], env: EnvVar[]): Record<string, string> {
  const chartSecrets = new Map(ofKind(manifests, 'Secret').map((secret) => [secret.metadata.name, secret]));
  return Object.fromEntries(
    env.map(({ name, value, valueFrom }) => {
      const ref = valueFrom?.secretKeyRef;
      if (!ref) return [name, value ?? ''];
      const secret = chartSecrets.get(ref.name);
      if (secret) {
        expect(secret.data).toHaveProperty([ref.key]);
        return [name, Buffer.from(secret.data[ref.key], 'base64').toString('utf8')];
      }
      if (!(name in SECRET_SAMPLES)) throw new Error(`${name} comes from an unknown Secret ${ref.name}`);
      return [name, SECRET_SAMPLES[name]];
    }),
  );
}

const rendered = renderValueSets();

describe.each(VALUE_SETS)('chart and code agree with %s', (valueFile) => {
  const manifests = rendered.get(valueFile)!;
  const services = ofKind(manifests, 'Service');

  it.each(Object.keys(PROCESSES))(
    '%s: sets only variables its fragments read, with values they accept',
    (name) => {
      const workload = workloads(manifests).find((candidate) => component(candidate) === name);
      if (!workload) throw new Error(`no workload ${name} rendered`);
      const process = PROCESSES[name];
      const [container] = podSpec(workload).containers;
      const env: EnvVar[] = container.env;
      const known = variablesOf(process.fragments);
      expect(env.map((entry) => entry.name).filter((variable) => !known.has(variable))).toEqual([]);
      expect(new Set(env.map((entry) => entry.name)).size).toBe(env.length);
      const values = environment(manifests, env);
      const config = composeConfig(values, process.fragments);
      if (process.descriptor) checkServicesConfig([process.descriptor], config);
      if (name === 'deploy-worker' || name === 'deploy-api') {
        expect((config as { deploy: { workers: boolean } }).deploy.workers).toBe(name === 'deploy-worker');
      }
    },
  );

  it.each(Object.keys(PROCESSES).filter((name) => name !== 'migrate'))(
    '%s: listens where its port, probes and Service point, and serves the probe and metrics paths',
    async (name) => {
      const deployment = find(manifests, 'Deployment', `mast-${name}`);
      const [container] = deployment.spec.template.spec.containers;
      const config = composeConfig(environment(manifests, container.env), [httpConfig]) as HttpConfig;
      const ports = new Map<string, number>(
        container.ports.map((port: { name: string; containerPort: number }) => [
          port.name,
          port.containerPort,
        ]),
      );
      expect(ports.get('http')).toBe(config.port);
      const probes = [container.startupProbe, container.livenessProbe, container.readinessProbe];
      for (const probe of probes) {
        expect(ports.get(probe.httpGet.port) ?? probe.httpGet.port).toBe(config.port);
      }
      const service = find(services, 'Service', `mast-${name}`);
      expect(ports.get(service.spec.ports[0].targetPort)).toBe(config.port);
      // The routes every Mast process serves (services/common/src/http.ts), under its own settings.
      const { app } = createHttpApp(httpAppOptions(config));
      try {
        const paths = [...probes.map((probe) => probe.httpGet.path), '/metrics'];
        for (const path of paths) {
          expect({ path, status: (await app.inject({ method: 'GET', url: path })).statusCode }).toEqual({
            path,
            status: 200,
          });
        }
      } finally {
        await app.close();
      }
    },
  );

  it('points every in-cluster URL at a rendered Service and its port', () => {
    const urls = workloads(manifests).flatMap((workload) =>
      (podSpec(workload).containers[0].env ?? [])
        .flatMap((entry: EnvVar) => (entry.value ?? '').split(','))
        .map((value: string) => /^(?:\w+=)?http:\/\/([a-z0-9-]+):(\d+)$/.exec(value))
        .filter(Boolean),
    );
    expect(urls.length).toBeGreaterThanOrEqual(8);
    for (const [url, host, port] of urls) {
      const service = services.find((candidate) => candidate.metadata.name === host);
      expect({ url, port: service?.spec.ports[0].port }).toEqual({ url, port: Number(port) });
    }
  });

  it("routes the gateway to exactly the services of the gateway's SERVICES", () => {
    const gateway = find(manifests, 'Deployment', 'mast-gateway').spec.template.spec.containers[0];
    const serviceUrls = gateway.env.find((entry: EnvVar) => entry.name === 'MAST_SERVICE_URLS')
      .value as string;
    const routes = new Map(serviceUrls.split(',').map((pair) => pair.split('=') as [string, string]));
    expect([...routes.keys()].sort()).toEqual(SERVICES.map((service) => service.name).sort());
    // Each name reaches the Deployment that runs that service (deploy: the deploy API).
    for (const [service, url] of routes) {
      const target = find(services, 'Service', new URL(url).hostname).spec.selector[
        'app.kubernetes.io/component'
      ];
      expect({ service, target }).toEqual({ service, target: service === 'deploy' ? 'deploy-api' : service });
    }
  });

  it("grants the deploy workers exactly the Kubernetes access deploy's code declares", () => {
    const kserve = valueFile === 'kserve-values.yaml';
    const expected = [...DEPLOY_WORKER_RULES, ...(kserve ? KSERVE_RULES : [])];
    const roles = [...ofKind(manifests, 'Role'), ...ofKind(manifests, 'ClusterRole')];
    expect(roles.length).toBeGreaterThan(0);
    for (const role of roles) expect(role.rules).toEqual(expected);
  });

  it('gives the deploy workers writable paths for their data and the base images deploy builds on', () => {
    const pod = find(manifests, 'Deployment', 'mast-deploy-worker').spec.template.spec;
    const env = environment(manifests, pod.containers[0].env);
    const mounts: Array<{ name: string; mountPath: string }> = pod.containers[0].volumeMounts;
    const mountOf = (path: string) => mounts.find((mount) => path.startsWith(`${mount.mountPath}/`));
    expect(mountOf(env.MAST_DEPLOY_DATA_DIR)?.name).toBe('data');
    if (env.MAST_DEPLOY_REGISTRY_AUTH_FILE)
      expect(mountOf(env.MAST_DEPLOY_REGISTRY_AUTH_FILE)?.name).toBe('registry-auth');
    const registry = valueFile === 'external-values.yaml' ? 'registry.example.com' : 'ghcr.io';
    expect(env.MAST_DEPLOY_MODEL_SERVER_IMAGE).toBe(
      DEFAULT_MODEL_SERVER_IMAGE.replace(/^ghcr\.io/, registry),
    );
    // The chart names MLflow's image itself (to put global.imageRegistry in front): the one deploy defaults to.
    expect(env.MAST_DEPLOY_PYTHON_IMAGE).toBe(DEFAULT_PYTHON_IMAGE.replace(/^ghcr\.io/, registry));
  });
});

describe('chart and packages agree', () => {
  it("takes appVersion from the services' version (the images' tag)", () => {
    const gateway = JSON.parse(readFileSync(join(REPO_ROOT, 'services/gateway/package.json'), 'utf8'));
    expect(chartMetadata().appVersion).toBe(gateway.version);
  });

  it('runs migrations with the CLI the gateway image holds', () => {
    expect(existsSync(join(REPO_ROOT, 'services/client/bin/mast.js'))).toBe(true);
    expect(readFileSync(join(REPO_ROOT, 'services/client/src/cli.ts'), 'utf8')).toMatch(/mast db upgrade/);
  });
});
