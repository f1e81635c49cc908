/**
 * Tiltfile, tilt/ and infra/kind, infra/k8s: the Tiltfiles are Starlark (read as Python), the images
 * Tilt builds are Dockerfile targets whose names the chart renders, every k8s_resource names a workload
 * the chart (with tilt/values-dev.yaml) or infra/k8s renders, and the pieces of the local cluster
 * (kind config, local registry, Prometheus discovery) agree. No cluster, Tilt or Docker runs here.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from '@jest/globals';
import { Deployment } from 'kubernetes-models/apps/v1';
import { ClusterRole, ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { ConfigMap, Service, ServiceAccount } from 'kubernetes-models/v1';
import {
  isHelmTest,
  type KubeObject,
  podTemplate,
  ROOT,
  read,
  renderDevChart,
  run,
  yamlDocuments,
} from './support.js';

interface Call {
  name: string;
  args: unknown[];
  keywords: Record<string, unknown>;
}
interface Starlark {
  notStarlark: string[];
  functions: string[];
  constants: Record<string, unknown>;
  calls: Call[];
}

const TILTFILES = ['Tiltfile', 'tilt/services.tiltfile', 'tilt/observability.tiltfile'];
const tiltfiles: Record<string, Starlark> = JSON.parse(
  run('/usr/bin/python3', ['test/infra/starlark_calls.py', ...TILTFILES]),
);
const calls = (name: string) =>
  Object.values(tiltfiles).flatMap((file) => file.calls.filter((c) => c.name === name));

const observabilityObjects = yamlDocuments<KubeObject>(read('infra/k8s/observability.yaml'));
const dockerfileStages = () =>
  [...read('Dockerfile').matchAll(/^FROM\s+\S+\s+AS\s+(\S+)/gim)].map(([, stage]) => stage.toLowerCase());

/** The services Tilt builds, each as image ghcr.io/mast-mlops/<service> (tilt/services.tiltfile). */
const SERVICES = tiltfiles['tilt/services.tiltfile'].constants.SERVICES as string[];

/** The dev chart as the Tiltfile deploys it: rendered, its `helm test` Pod left out. */
let chart: KubeObject[];
let rendered: KubeObject[];
beforeAll(() => {
  rendered = renderDevChart();
  chart = rendered.filter((object) => !isHelmTest(object));
});

const workloads = (objects: KubeObject[]) => objects.filter((object) => podTemplate(object) !== undefined);
const containers = (object: KubeObject) => podTemplate(object)!.spec.containers as Array<Record<string, any>>;

describe('the Tiltfiles', () => {
  test.each(TILTFILES)('%s parses as Python and uses nothing Starlark lacks', (file) => {
    expect(tiltfiles[file].notStarlark).toEqual([]);
    expect(tiltfiles[file].calls.length).toBeGreaterThan(0);
  });

  test('the reader notices Python that is not Starlark', () => {
    const file = join(ROOT, 'test/infra/starlark_calls.py');
    const described = JSON.parse(run('/usr/bin/python3', ['test/infra/starlark_calls.py', file]));
    expect(described[file].notStarlark).toEqual(
      expect.arrayContaining([expect.stringMatching(/^Import line/)]),
    );
  });

  test('every load() names a file that defines the symbols it loads', () => {
    const loads = calls('load');
    expect(loads.length).toBeGreaterThanOrEqual(2);
    for (const { args } of loads) {
      const [path, ...symbols] = args as string[];
      const file = path.replace(/^\.\//, '');
      expect(tiltfiles[file]?.functions ?? `${file} is not read`).toEqual(expect.arrayContaining(symbols));
    }
  });
});

describe('images', () => {
  test('docker_build builds the Dockerfile target `dev` with a SERVICE build argument it declares', () => {
    const [build] = calls('docker_build');
    expect(build.keywords.target).toBe('dev');
    expect(dockerfileStages()).toContain('dev');
    const devStage = read('Dockerfile').split(/^FROM\s+\S+\s+AS\s+dev\b/im)[1];
    expect(devStage).toMatch(/^ARG SERVICE\b/m);
    expect(devStage).toMatch(/services\/\$MAST_SERVICE\/dist\/main\.js/);
  });

  test('each service Tilt builds has a process and a TypeScript project', () => {
    expect([...SERVICES].sort()).toEqual(['artifact', 'deploy', 'gateway', 'registry', 'tracking']);
    for (const service of SERVICES) {
      expect([service, existsSync(join(ROOT, `services/${service}/src/main.ts`))]).toEqual([service, true]);
      expect([service, existsSync(join(ROOT, `services/${service}/tsconfig.json`))]).toEqual([service, true]);
    }
  });

  test('every Mast image the dev chart renders is one Tilt builds (ghcr.io/mast-mlops/<image>)', () => {
    const images = workloads(chart).flatMap((object) => containers(object).map((c) => c.image as string));
    const mast = images.filter((image) => image.startsWith('ghcr.io/mast-mlops/'));
    expect(mast.length).toBeGreaterThanOrEqual(6);
    const built = SERVICES.map((service) => `ghcr.io/mast-mlops/${service}`);
    for (const image of mast) expect(built).toContain(image.replace(/[:@].*$/, ''));
    for (const ref of built) expect(mast.some((image) => image.startsWith(`${ref}:`))).toBe(true);
  });

  test('the model server image is a Dockerfile target, pushed where values-dev.yaml points deploy workers', () => {
    const [command] = calls('local_resource')
      .find((c) => c.args[0] === 'model-server-image')!
      .args.slice(1) as string[];
    const target = command.match(/--target (\S+)/)![1];
    expect(dockerfileStages()).toContain(target);
    const pushed = command.match(/docker push (\S+)/)![1];
    const values = yamlDocuments(read('tilt/values-dev.yaml'))[0];
    const { registry, repository, tag } = values.modelServer.image;
    // localhost:5001 on the host is the registry container kind-registry:5000 inside the cluster
    expect(pushed).toBe(`localhost:5001/${repository}:${tag}`);
    expect(registry).toBe('kind-registry:5000');
    expect(values.deployWorker.insecureRegistries).toContain(registry);
    const createCluster = read('infra/kind/create.sh');
    expect(createCluster).toMatch(/registry=kind-registry\n/);
    expect(createCluster).toContain('-p 127.0.0.1:5001:5000');
  });
});

describe('resources', () => {
  test("the chart's helm test Pod is left out (a hook Tilt would otherwise run as a workload; the Starlark is not executed here)", () => {
    expect(rendered.filter(isHelmTest).map((object) => object.kind)).toContain('Pod');
    expect(tiltfiles.Tiltfile.functions).toContain('without_helm_tests');
    expect(calls('without_helm_tests')).toHaveLength(1);
  });

  test('every k8s_resource names a workload of the dev chart or of infra/k8s', () => {
    const names = workloads([...chart, ...observabilityObjects]).map((object) => object.metadata.name);
    const resources = calls('k8s_resource');
    expect(resources.length).toBeGreaterThanOrEqual(10);
    for (const { args } of resources) expect(names).toContain(args[0]);
  });

  test('every workload of the dev chart has its k8s_resource; the services wait for the migration Job', () => {
    const resources = calls('k8s_resource');
    const named = new Map(resources.map((c) => [c.args[0] as string, c]));
    for (const object of workloads(chart)) expect(named.has(object.metadata.name)).toBe(true);
    const migrate = chart.find((object) => object.kind === 'Job')!;
    const migrateResource =
      (named.get(migrate.metadata.name)!.keywords.new_name as string) ?? migrate.metadata.name;
    for (const object of chart.filter(
      (o) => o.kind === 'Deployment' && containers(o)[0].image.includes('mast-mlops'),
    ))
      expect(named.get(object.metadata.name)!.keywords.resource_deps).toContain(migrateResource);
  });

  test('resource_deps name resources that exist', () => {
    const resources = calls('k8s_resource');
    const defined = new Set(resources.map((c) => (c.keywords.new_name as string) ?? (c.args[0] as string)));
    for (const c of resources)
      for (const dep of (c.keywords.resource_deps as string[]) ?? []) expect(defined).toContain(dep);
  });

  test('the gateway and Grafana are port-forwarded', () => {
    const forwards = Object.fromEntries(
      calls('k8s_resource').map((c) => [c.args[0], c.keywords.port_forwards]),
    );
    expect(forwards['mast-gateway']).toEqual(['5000']);
    expect(forwards.grafana).toEqual(['3000']);
  });
});

describe('tilt/values-dev.yaml', () => {
  test('renders one replica of everything, the bundled PostgreSQL, Redis and MinIO, writable containers', () => {
    const deployments = chart.filter((object) => object.kind === 'Deployment');
    for (const name of ['mast-postgresql', 'mast-redis', 'mast-minio'])
      expect(deployments.map((d) => d.metadata.name)).toContain(name);
    for (const deployment of deployments)
      expect([deployment.metadata.name, deployment.spec.replicas]).toEqual([deployment.metadata.name, 1]);
    for (const object of workloads(chart))
      for (const container of containers(object).filter((c) => c.image.startsWith('ghcr.io/mast-mlops/')))
        expect(container.securityContext.readOnlyRootFilesystem).toBe(false);
    expect(chart.filter((object) => object.kind === 'PodDisruptionBudget')).toEqual([]);
  });

  test("the dev Prometheus's discovery keeps the chart's Mast pods, by label and port name", () => {
    const config = read('infra/prometheus/config/prometheus.yml');
    expect(config).toContain('regex: mast;http');
    const mastPods = workloads(chart).filter((object) =>
      containers(object).some((c) => (c.ports ?? []).some((p: { name: string }) => p.name === 'http')),
    );
    expect(mastPods.length).toBeGreaterThanOrEqual(6);
    for (const object of mastPods) {
      const labels = podTemplate(object)!.metadata.labels;
      expect([object.metadata.name, labels['app.kubernetes.io/name']]).toEqual([
        object.metadata.name,
        'mast',
      ]);
      expect(`mast-${labels['app.kubernetes.io/component']}`).toBe(object.metadata.name);
    }
  });
});

describe('the local cluster (infra/kind, infra/k8s)', () => {
  test('kind creates the cluster the Tiltfile allows (context kind-mast); create.sh is valid shell', () => {
    const cluster = yamlDocuments(read('infra/kind/cluster.yaml'))[0];
    expect(cluster).toMatchObject({ kind: 'Cluster', apiVersion: 'kind.x-k8s.io/v1alpha4', name: 'mast' });
    expect(calls('allow_k8s_contexts')[0].args[0]).toContain(`kind-${cluster.name}`);
    expect(cluster.containerdConfigPatches.join('\n')).toContain('config_path = "/etc/containerd/certs.d"');
    run('bash', ['-n', 'infra/kind/create.sh']);
    const hosting = yamlDocuments(read('infra/kind/local-registry-hosting.yaml'))[0];
    expect(hosting.data['localRegistryHosting.v1']).toContain('host: "localhost:5001"');
  });

  test('infra/k8s/observability.yaml objects are valid Kubernetes objects (kubernetes-models)', () => {
    const models: Record<string, new (data: any) => { validate(): void }> = {
      Deployment,
      Service,
      ServiceAccount,
      ClusterRole,
      ClusterRoleBinding,
    };
    expect(observabilityObjects.map((o) => o.kind).sort()).toEqual([
      'ClusterRole',
      'ClusterRoleBinding',
      'Deployment',
      'Deployment',
      'Service',
      'Service',
      'ServiceAccount',
    ]);
    for (const object of observabilityObjects)
      expect(() => new models[object.kind](object).validate()).not.toThrow();
    expect(() => new ConfigMap({ metadata: { name: 'x' }, data: { a: 1 } } as any).validate()).toThrow();
  });

  test('the ConfigMaps the Tiltfile builds are the ones the Prometheus and Grafana pods mount', () => {
    const built = calls('_config_map').map((c) => c.args[0] as string);
    const mounted = workloads(observabilityObjects).flatMap((object) =>
      podTemplate(object)!.spec.volumes.flatMap((v: { configMap?: { name: string } }) =>
        v.configMap ? [v.configMap.name] : [],
      ),
    );
    expect(built.sort()).toEqual(mounted.sort());
    const attached = calls('k8s_resource').flatMap((c) => (c.keywords.objects as string[]) ?? []);
    for (const name of built) expect(attached).toContain(`${name}:configmap`);
    for (const selector of attached.filter((s) => !s.endsWith(':configmap'))) {
      const [name, kind] = selector.split(':');
      expect(
        observabilityObjects.some((o) => o.metadata.name === name && o.kind.toLowerCase() === kind),
      ).toBe(true);
    }
  });
});
