import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { HTTPRoute } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { Job } from 'kubernetes-models/batch/v1';
import { Ingress, NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import {
  ClusterRole,
  ClusterRoleBinding,
  Role,
  RoleBinding,
} from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { Pod, Secret, Service, ServiceAccount } from 'kubernetes-models/v1';
import { parse } from 'yaml';
import {
  CHART,
  chartMetadata,
  component,
  find,
  helm,
  helmError,
  installDryRun,
  type Manifest,
  NAMESPACE,
  ofKind,
  podSpec,
  RELEASE,
  render,
  renderValueSets,
  VALUE_SETS,
  valueSet,
  workloads,
} from './support.js';

/** The schema of every kind the chart renders (kubernetes-models; CRD models for ServiceMonitor and HTTPRoute). */
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'apps/v1/Deployment': Deployment,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'batch/v1/Job': Job,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'networking.k8s.io/v1/Ingress': Ingress,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'rbac.authorization.k8s.io/v1/Role': Role,
  'rbac.authorization.k8s.io/v1/RoleBinding': RoleBinding,
  'rbac.authorization.k8s.io/v1/ClusterRole': ClusterRole,
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': ClusterRoleBinding,
  'v1/Pod': Pod,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'v1/ServiceAccount': ServiceAccount,
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor,
  'gateway.networking.k8s.io/v1/HTTPRoute': HTTPRoute,
};

/** Why `manifest` does not match its Kubernetes schema, or undefined when it does. */
function schemaProblem(manifest: Manifest): string | undefined {
  const Model = MODELS[`${manifest.apiVersion}/${manifest.kind}`];
  if (!Model) return `${manifest.apiVersion} ${manifest.kind}: no schema to validate it against`;
  try {
    new Model(manifest as never).validate();
    return undefined;
  } catch (error) {
    return `${manifest.kind} ${manifest.metadata.name}: ${(error as Error).message}`;
  }
}

const MAST_COMPONENTS = ['gateway', 'tracking', 'registry', 'artifact', 'deploy-api', 'deploy-worker'];
const rendered = renderValueSets();

describe.each(VALUE_SETS)('the chart with %s', (valueFile) => {
  const manifests = rendered.get(valueFile)!;

  it('passes helm lint --strict', () => {
    expect(helmError(['lint', '--strict', CHART, '-f', valueSet(valueFile)])).toBeUndefined();
  });

  it('renders only objects that match their Kubernetes schemas', () => {
    expect(manifests.length).toBeGreaterThan(20);
    expect(manifests.map(schemaProblem).filter(Boolean)).toEqual([]);
  });

  it('renders a Deployment and a Service per component, named <release>-<component>', () => {
    for (const name of MAST_COMPONENTS) {
      const deployment = find(manifests, 'Deployment', `${RELEASE}-${name}`);
      expect(component(deployment)).toBe(name);
      const service = find(manifests, 'Service', `${RELEASE}-${name}`);
      // The Service selects the Deployment's pods, whose selector is a subset of their labels.
      expect(service.spec.selector).toEqual(deployment.spec.selector.matchLabels);
      expect(deployment.spec.template.metadata.labels).toMatchObject(deployment.spec.selector.matchLabels);
      expect(Object.keys(deployment.spec.selector.matchLabels).sort()).toEqual([
        'app.kubernetes.io/component',
        'app.kubernetes.io/instance',
        'app.kubernetes.io/name',
      ]);
      expect(service.spec.ports).toEqual([{ name: 'http', port: 5000, targetPort: 'http', protocol: 'TCP' }]);
    }
    for (const manifest of manifests) {
      if (manifest.kind.startsWith('Cluster')) continue;
      expect(manifest.metadata.namespace ?? NAMESPACE).toMatch(/^(mast-system|models-.+)$/);
    }
  });

  it('runs every pod non-root, read-only, without capabilities, and mounts a token only in the deploy workers', () => {
    for (const workload of workloads(manifests)) {
      const pod = podSpec(workload);
      expect(pod.securityContext).toMatchObject({
        runAsNonRoot: true,
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(pod.automountServiceAccountToken).toBe(component(workload) === 'deploy-worker');
      for (const container of pod.containers) {
        expect(container.securityContext).toMatchObject({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          runAsNonRoot: true,
          capabilities: { drop: ['ALL'] },
        });
        expect(container.resources.requests).toBeDefined();
      }
    }
  });
});

describe('chart values', () => {
  it('refuses to render without a database, Redis and S3, naming what to set', () => {
    expect(helmError(['template', RELEASE, CHART])).toMatch(/externalS3\.bucket.*minio\.enabled=true/);
    expect(
      helmError(['template', RELEASE, CHART, '--set', 'externalS3.bucket=b,externalS3.existingSecret=s3']),
    ).toMatch(/externalDatabase\.host .*postgresql\.enabled=true/);
    expect(
      helmError([
        'template',
        RELEASE,
        CHART,
        '--set',
        'externalS3.bucket=b,externalS3.existingSecret=s3,externalDatabase.existingSecret=db',
      ]),
    ).toMatch(/externalRedis\.host .*redis\.enabled=true/);
  });

  it('rejects values the schema does not know (a typo is an error, not a silent default)', () => {
    expect(
      helmError(['lint', CHART, '-f', valueSet('bundled-values.yaml'), '--set', 'gateway.replicas=3']),
    ).toMatch(/gateway: Additional property replicas is not allowed/);
    expect(
      helmError([
        'lint',
        CHART,
        '-f',
        valueSet('bundled-values.yaml'),
        '--set',
        'deployWorker.rbac.namespaces[0]=Bad_NS',
      ]),
    ).toMatch(/namespaces/);
  });

  it('refuses values that would render objects Kubernetes or the services reject', () => {
    const external = (set: string) =>
      helmError(['template', RELEASE, CHART, '-f', valueSet('external-values.yaml'), '--set', set]);
    expect(external('externalDatabase.existingSecretKey=')).toMatch(/externalDatabase\.existingSecretKey/);
    expect(external('externalS3.existingSecretAccessKeyIdKey=')).toMatch(/existingSecretAccessKeyIdKey/);
    // The S3 client reads `minio:9000` as a URL whose scheme is `minio:`.
    expect(external('externalS3.endpoint=minio:9000')).toMatch(
      /externalS3\.endpoint: Does not match pattern/,
    );
    expect(external('gateway.ingress.hosts=null')).toMatch(/gateway\.ingress\.hosts is required/);
  });

  it('refuses an autoscaler whose minReplicas is above its maxReplicas', () => {
    expect(
      helmError([
        'template',
        RELEASE,
        CHART,
        '-f',
        valueSet('bundled-values.yaml'),
        '--set',
        'deployApi.autoscaling.enabled=true,deployApi.autoscaling.minReplicas=5,deployApi.autoscaling.maxReplicas=2',
      ]),
    ).toMatch(/deploy-api: autoscaling\.minReplicas \(5\) is above autoscaling\.maxReplicas \(2\)/);
  });

  it('names images <registry>/mast-mlops/<image>:<appVersion>, or by digest; global.imageRegistry wins', () => {
    const { appVersion } = chartMetadata();
    const bundled = rendered.get('bundled-values.yaml')!;
    const image = (manifests: Manifest[], name: string) =>
      find(manifests, 'Deployment', `${RELEASE}-${name}`).spec.template.spec.containers[0].image;
    expect(image(bundled, 'tracking')).toBe(`ghcr.io/mast-mlops/tracking:${appVersion}`);
    expect(image(bundled, 'deploy-api')).toBe(`ghcr.io/mast-mlops/deploy:${appVersion}`);
    expect(find(bundled, 'Job', `${RELEASE}-migrate`).spec.template.spec.containers[0].image).toBe(
      `ghcr.io/mast-mlops/gateway:${appVersion}`,
    );
    const external = rendered.get('external-values.yaml')!;
    expect(image(external, 'gateway')).toBe(`registry.example.com/mast-mlops/gateway:${appVersion}`);
    expect(image(external, 'tracking')).toBe(
      `registry.example.com/mast-mlops/tracking@sha256:${'0'.repeat(63)}1`,
    );
    expect(find(external, 'Deployment', `${RELEASE}-gateway`).spec.template.spec.imagePullSecrets).toEqual([
      { name: 'registry-pull' },
    ]);
  });

  it("takes the deploy workers' Python base image from global.imageRegistry too, by tag or digest", () => {
    const pythonImage = (valueFile: string, sets: string[] = []) =>
      find(
        render([valueSet(valueFile)], sets),
        'Deployment',
        `${RELEASE}-deploy-worker`,
      ).spec.template.spec.containers[0].env.find(
        (entry: { name: string }) => entry.name === 'MAST_DEPLOY_PYTHON_IMAGE',
      ).value;
    expect(pythonImage('bundled-values.yaml')).toBe('ghcr.io/mlflow/mlflow:v3.11.0');
    // external-values.yaml sets global.imageRegistry: it wins over pythonImage.registry, as for Mast's images.
    expect(pythonImage('external-values.yaml', ['deployWorker.pythonImage.registry=docker.io'])).toBe(
      'registry.example.com/mlflow/mlflow:v3.11.0',
    );
    expect(
      pythonImage('bundled-values.yaml', [
        `deployWorker.pythonImage.registry=python.example:8443,deployWorker.pythonImage.digest=sha256:${'e'.repeat(64)}`,
      ]),
    ).toBe(`python.example:8443/mlflow/mlflow@sha256:${'e'.repeat(64)}`);
  });

  it("refuses a Python base image without a tag or digest (the chart's appVersion is not MLflow's), or as a string", () => {
    const bundled = (set: string) =>
      helmError(['template', RELEASE, CHART, '-f', valueSet('bundled-values.yaml'), '--set', set]);
    expect(bundled('deployWorker.pythonImage.tag=')).toMatch(/deployWorker\.pythonImage\.tag: String length/);
    expect(bundled('deployWorker.pythonImage.tag=,deployWorker.pythonImage.digest=sha256:abc')).toMatch(
      /deployWorker\.pythonImage\.digest: Does not match pattern/,
    );
    expect(bundled('deployWorker.pythonImage=ghcr.io/mlflow/mlflow:v3')).toMatch(
      /deployWorker\.pythonImage: Invalid type\. Expected: object, given: string/,
    );
  });

  it('exposes the gateway through an Ingress, an HTTPRoute, or neither', () => {
    const ingresses = (name: string) => ofKind(rendered.get(name)!, 'Ingress');
    const routes = (name: string) => ofKind(rendered.get(name)!, 'HTTPRoute');
    expect(ingresses('bundled-values.yaml')).toEqual([]);
    expect(routes('bundled-values.yaml')).toEqual([]);
    const [ingress] = ingresses('external-values.yaml');
    expect(ingress.spec.ingressClassName).toBe('nginx');
    expect(ingress.spec.tls).toEqual([{ secretName: 'mast-tls', hosts: ['mast.example.com'] }]);
    expect(ingress.spec.rules[0]).toEqual({
      host: 'mast.example.com',
      http: {
        paths: [
          {
            path: '/',
            pathType: 'Prefix',
            backend: { service: { name: 'mast-gateway', port: { name: 'http' } } },
          },
        ],
      },
    });
    const [route] = routes('inline-values.yaml');
    expect(route.spec.parentRefs).toEqual([{ name: 'public', namespace: 'gateway-system' }]);
    expect(route.spec.rules[0].backendRefs).toEqual([{ name: 'mast-gateway', port: 5000 }]);
    expect(
      helmError([
        'template',
        RELEASE,
        CHART,
        '-f',
        valueSet('bundled-values.yaml'),
        '--set',
        'gateway.httpRoute.enabled=true',
      ]),
    ).toMatch(/gateway\.httpRoute\.parentRefs is required/);
  });

  it('renders ServiceMonitors only when enabled and the cluster serves the Prometheus Operator API', () => {
    const external = rendered.get('external-values.yaml')!;
    const monitors = ofKind(external, 'ServiceMonitor');
    expect(monitors.map((monitor) => monitor.metadata.name).sort()).toEqual(
      MAST_COMPONENTS.map((name) => `${RELEASE}-${name}`).sort(),
    );
    for (const monitor of monitors) {
      expect(monitor.metadata.labels?.release).toBe('kube-prometheus-stack');
      expect(monitor.spec.endpoints).toEqual([
        { port: 'http', path: '/metrics', interval: '30s', scrapeTimeout: '10s' },
      ]);
      expect(monitor.spec.selector.matchLabels).toEqual(
        find(external, 'Service', monitor.metadata.name).spec.selector,
      );
    }
    expect(ofKind(rendered.get('bundled-values.yaml')!, 'ServiceMonitor')).toEqual([]);
    // Enabled, but the cluster has no Prometheus Operator: nothing the API server would refuse.
    const withoutCrd = helm(['template', RELEASE, CHART, '-f', valueSet('external-values.yaml')]);
    expect(withoutCrd).toContain('kind: Deployment');
    expect(withoutCrd).not.toContain('kind: ServiceMonitor');
  });

  it('leaves spec.replicas to the HPA when autoscaling, and makes PDBs only for more than one replica', () => {
    const external = rendered.get('external-values.yaml')!;
    const hpa = find(external, 'HorizontalPodAutoscaler', 'mast-gateway');
    expect(hpa.spec).toMatchObject({
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'mast-gateway' },
      minReplicas: 3,
      maxReplicas: 10,
    });
    expect(find(external, 'Deployment', 'mast-gateway').spec.replicas).toBeUndefined();
    expect(find(external, 'Deployment', 'mast-tracking').spec.replicas).toBe(2);
    expect(find(external, 'PodDisruptionBudget', 'mast-deploy-worker').spec.minAvailable).toBe(1);
    const bundled = rendered.get('bundled-values.yaml')!;
    expect(ofKind(bundled, 'HorizontalPodAutoscaler')).toEqual([]);
    // One deploy worker by default: a PDB with minAvailable 1 would block node drains.
    expect(ofKind(bundled, 'PodDisruptionBudget').map((pdb) => pdb.metadata.name)).not.toContain(
      'mast-deploy-worker',
    );
  });

  it('restricts traffic with NetworkPolicies: services only from their callers, the gateway from anyone', () => {
    const policies = ofKind(rendered.get('external-values.yaml')!, 'NetworkPolicy');
    expect(policies).toHaveLength(MAST_COMPONENTS.length);
    const callers = (name: string) =>
      find(policies, 'NetworkPolicy', `${RELEASE}-${name}`)
        .spec.ingress[0].from?.map(
          (peer: { podSelector: { matchLabels: Record<string, string> } }) =>
            peer.podSelector.matchLabels['app.kubernetes.io/component'],
        )
        .sort();
    expect(callers('gateway')).toBeUndefined();
    expect(callers('tracking')).toEqual(['artifact', 'gateway', 'registry']);
    expect(callers('registry')).toEqual(['deploy-api', 'deploy-worker', 'gateway']);
    expect(callers('deploy-api')).toEqual(['gateway']);
    const worker = find(policies, 'NetworkPolicy', `${RELEASE}-deploy-worker`);
    expect(worker.spec.egress).toContainEqual({
      ports: [{ port: 443 }, { port: 6443 }],
      to: [{ ipBlock: { cidr: '10.96.0.1/32' } }],
    });
    expect(ofKind(rendered.get('bundled-values.yaml')!, 'NetworkPolicy')).toEqual([]);
  });

  it('refuses NetworkPolicies that would cut the pods off from external services or Prometheus', () => {
    const external = valueSet('external-values.yaml');
    expect(
      helmError(['template', RELEASE, CHART, '-f', external, '--set', 'networkPolicy.extraEgress=null']),
    ).toMatch(
      /networkPolicy\.enabled blocks egress to the external S3, PostgreSQL, Redis: list them in networkPolicy\.extraEgress/,
    );
    expect(
      helmError([
        'template',
        RELEASE,
        CHART,
        '-f',
        external,
        '--api-versions',
        'monitoring.coreos.com/v1',
        '--set',
        'networkPolicy.metricsNamespaceSelector=null',
      ]),
    ).toMatch(/set networkPolicy\.metricsNamespaceSelector/);
  });

  it('lets the deploy workers and the helm test pod reach the gateway when gatewayIngressFrom restricts its callers', () => {
    const manifests = render(
      [valueSet('external-values.yaml')],
      ['networkPolicy.gatewayIngressFrom[0].namespaceSelector.matchLabels.name=ingress-nginx'],
    );
    const gateway = find(ofKind(manifests, 'NetworkPolicy'), 'NetworkPolicy', `${RELEASE}-gateway`);
    const selector = ['app.kubernetes.io/name', 'app.kubernetes.io/instance', 'app.kubernetes.io/component'];
    const peer = (labels: Record<string, string> = {}) => ({
      podSelector: { matchLabels: Object.fromEntries(selector.map((key) => [key, labels[key]])) },
    });
    expect(gateway.spec.ingress[0].from).toEqual([
      { namespaceSelector: { matchLabels: { name: 'ingress-nginx' } } },
      peer(find(manifests, 'Deployment', `${RELEASE}-deploy-worker`).spec.template.metadata.labels),
      peer(find(manifests, 'Pod', `${RELEASE}-test`).metadata.labels),
    ]);
  });

  it("lets the deploy workers reach insecure registries and the base images' registries on their ports", () => {
    const egress = (sets: string[]) =>
      find(
        ofKind(render([valueSet('external-values.yaml')], sets), 'NetworkPolicy'),
        'NetworkPolicy',
        `${RELEASE}-deploy-worker`,
      ).spec.egress;
    const insecure =
      'deployWorker.insecureRegistries={registry.internal:5000,plain.example,registry.internal:5000}';
    // 80: an insecure registry without a port; the mirror holds both base images.
    expect(
      egress([
        'global.imageRegistry=mirror.example:5443',
        'deployWorker.pythonImage.registry=python.example:8443',
        insecure,
      ]),
    ).toContainEqual({ ports: [{ port: 443 }, { port: 5000 }, { port: 80 }, { port: 5443 }] });
    expect(
      egress([
        'global.imageRegistry=',
        'modelServer.image.registry=models.example:7443',
        'deployWorker.pythonImage.registry=python.example:8443',
        insecure,
      ]),
    ).toContainEqual({
      ports: [{ port: 443 }, { port: 5000 }, { port: 80 }, { port: 7443 }, { port: 8443 }],
    });
  });
});

describe('connection secrets and the migration hook', () => {
  const secretRef = (workload: Manifest, variable: string) =>
    podSpec(workload).containers[0].env.find((entry: { name: string }) => entry.name === variable)?.valueFrom
      ?.secretKeyRef;
  const decoded = (secret: Manifest, key: string) => Buffer.from(secret.data[key], 'base64').toString('utf8');

  it('runs migrations pre-install with an external database, from a hook Secret created before the Job', () => {
    const inline = rendered.get('inline-values.yaml')!;
    const job = find(inline, 'Job', 'mast-migrate');
    const hookSecret = find(inline, 'Secret', 'mast-migrate');
    expect(job.metadata.annotations?.['helm.sh/hook']).toBe('pre-install,pre-upgrade');
    expect(hookSecret.metadata.annotations?.['helm.sh/hook']).toBe('pre-install,pre-upgrade');
    expect(Number(hookSecret.metadata.annotations?.['helm.sh/hook-weight'])).toBeLessThan(
      Number(job.metadata.annotations?.['helm.sh/hook-weight']),
    );
    expect(secretRef(job, 'MAST_BACKEND_STORE_URI')).toEqual({ name: 'mast-migrate', key: 'database-url' });
    expect(job.spec.template.spec.containers[0].command).toEqual([
      'node',
      'services/client/bin/mast.js',
      'db',
      'upgrade',
    ]);
    expect(job.spec.template.spec.restartPolicy).toBe('Never');
    // The chart's ServiceAccount does not exist yet at pre-install: the Job names none.
    expect(job.spec.template.spec.serviceAccountName).toBeUndefined();
    // The hook's URL is the services' URL, with the password percent-encoded (spaces, '@' and '/').
    const url = decoded(hookSecret, 'database-url');
    expect(url).toBe(decoded(find(inline, 'Secret', 'mast-connections'), 'database-url'));
    const parsed = new URL(url);
    expect(decodeURIComponent(parsed.password)).toBe('p@ss word/1');
    expect(`${parsed.hostname}:${parsed.port}${parsed.pathname}${parsed.search}`).toBe(
      'postgres.db.svc:5432/mast?sslmode=require',
    );
    expect(decoded(find(inline, 'Secret', 'mast-connections'), 'redis-url')).toBe(
      'rediss://:redis-secret@redis.db.svc:6379/0',
    );
  });

  it('runs migrations post-install with the bundled PostgreSQL, which does not exist before install', () => {
    const bundled = rendered.get('bundled-values.yaml')!;
    expect(find(bundled, 'Job', 'mast-migrate').metadata.annotations?.['helm.sh/hook']).toBe(
      'post-install,pre-upgrade',
    );
    // One generated password, the same in the PostgreSQL pod's Secret, the services' and the hook's URLs.
    const password = decoded(find(bundled, 'Secret', 'mast-bundled'), 'postgresql-password');
    expect(password).toMatch(/^[A-Za-z0-9]{24}$/);
    for (const secret of ['mast-connections', 'mast-migrate']) {
      expect(decoded(find(bundled, 'Secret', secret), 'database-url')).toBe(
        `postgresql://mast:${password}@mast-postgresql:5432/mast`,
      );
    }
    expect(decoded(find(bundled, 'Secret', 'mast-connections'), 's3-secret-access-key')).toBe(
      decoded(find(bundled, 'Secret', 'mast-bundled'), 'minio-root-password'),
    );
  });

  it('reads every connection setting from existingSecrets when given, and makes no Secret of its own', () => {
    const external = rendered.get('external-values.yaml')!;
    expect(ofKind(external, 'Secret')).toEqual([]);
    const job = find(external, 'Job', 'mast-migrate');
    expect(job.metadata.annotations?.['helm.sh/hook']).toBe('pre-install,pre-upgrade');
    expect(secretRef(job, 'MAST_BACKEND_STORE_URI')).toEqual({ name: 'mast-database', key: 'database-url' });
    const registry = find(external, 'Deployment', 'mast-registry');
    expect(secretRef(registry, 'REDIS_URL')).toEqual({ name: 'mast-redis', key: 'redis-url' });
    const artifact = find(external, 'Deployment', 'mast-artifact');
    expect(secretRef(artifact, 'AWS_ACCESS_KEY_ID')).toEqual({ name: 'mast-s3', key: 'access-key-id' });
    expect(secretRef(artifact, 'AWS_SECRET_ACCESS_KEY')).toEqual({
      name: 'mast-s3',
      key: 'secret-access-key',
    });
  });

  it('mounts the registry push credentials into the deploy workers only when given', () => {
    const worker = find(rendered.get('external-values.yaml')!, 'Deployment', 'mast-deploy-worker').spec
      .template.spec;
    expect(worker.volumes).toContainEqual({
      name: 'registry-auth',
      secret: { secretName: 'mast-registry-push' },
    });
    expect(worker.containers[0].volumeMounts).toContainEqual({
      name: 'registry-auth',
      mountPath: '/etc/mast/registry-auth',
      readOnly: true,
    });
    const bundledWorker = find(rendered.get('bundled-values.yaml')!, 'Deployment', 'mast-deploy-worker').spec
      .template.spec;
    expect(bundledWorker.volumes.map((volume: { name: string }) => volume.name)).toEqual(['tmp', 'data']);
  });
});

describe('bundled trial dependencies', () => {
  it('creates the bucket the artifact service writes to, and points the services at the bundled pods', () => {
    const bundled = rendered.get('bundled-values.yaml')!;
    const env = (name: string) =>
      Object.fromEntries(
        find(bundled, 'Deployment', `mast-${name}`).spec.template.spec.containers[0].env.map(
          (entry: { name: string; value?: string }) => [entry.name, entry.value],
        ),
      );
    const destination = new URL(env('artifact').MAST_ARTIFACTS_DESTINATION);
    expect(destination.protocol).toBe('s3:');
    const minio = find(bundled, 'Deployment', 'mast-minio').spec.template.spec.containers[0];
    expect(minio.command.join(' ')).toContain(`mc mb --ignore-existing local/${destination.hostname}\n`);
    expect(env('artifact')).toMatchObject({
      MAST_S3_ENDPOINT_URL: 'http://mast-minio:9000',
      MAST_S3_PATH_STYLE: 'true',
    });
    for (const dependency of ['postgresql', 'redis', 'minio']) {
      expect(find(bundled, 'Deployment', `mast-${dependency}`).spec.strategy).toEqual({ type: 'Recreate' });
    }
    const external = rendered.get('external-values.yaml')!;
    expect(
      external.filter((manifest) =>
        ['postgresql', 'redis', 'minio', 'bundled'].includes(component(manifest)),
      ),
    ).toEqual([]);
  });
});

describe('helm test', () => {
  it('checks that the gateway answers /ready, with the gateway image', () => {
    const bundled = rendered.get('bundled-values.yaml')!;
    const pod = find(bundled, 'Pod', 'mast-test');
    expect(pod.metadata.annotations?.['helm.sh/hook']).toBe('test');
    const [container] = pod.spec.containers;
    expect(container.image).toBe(podSpec(find(bundled, 'Deployment', 'mast-gateway')).containers[0].image);
    expect(container.command.slice(0, 2)).toEqual(['node', '-e']);
    expect(container.command[2]).toContain("fetch('http://mast-gateway:5000/ready')");
  });
});

describe('deploy worker RBAC', () => {
  const subjects = [{ kind: 'ServiceAccount', name: 'mast-deploy-worker', namespace: NAMESPACE }];

  it('binds a Role in the release namespace by default', () => {
    const bundled = rendered.get('bundled-values.yaml')!;
    expect(ofKind(bundled, 'Role').map((role) => role.metadata.namespace)).toEqual([NAMESPACE]);
    expect(find(bundled, 'RoleBinding', 'mast-deploy-worker').subjects).toEqual(subjects);
    expect(ofKind(bundled, 'ClusterRole')).toEqual([]);
  });

  it('binds a Role in each target namespace, with KServe InferenceServices for the KServe target', () => {
    const kserve = rendered.get('kserve-values.yaml')!;
    const roles = ofKind(kserve, 'Role');
    expect(roles.map((role) => role.metadata.namespace)).toEqual(['models-staging', 'models-production']);
    for (const role of roles) {
      expect(role.rules).toContainEqual({
        apiGroups: ['serving.kserve.io'],
        resources: ['inferenceservices'],
        verbs: ['create', 'list', 'patch', 'watch'],
      });
    }
    for (const binding of ofKind(kserve, 'RoleBinding')) {
      expect(binding.roleRef).toEqual({
        apiGroup: 'rbac.authorization.k8s.io',
        kind: 'Role',
        name: 'mast-deploy-worker',
      });
      expect(binding.subjects).toEqual(subjects);
    }
    const bundledRules = ofKind(rendered.get('bundled-values.yaml')!, 'Role')[0].rules;
    expect(bundledRules.flatMap((rule: { apiGroups: string[] }) => rule.apiGroups)).not.toContain(
      'serving.kserve.io',
    );
  });

  it('grants the rules cluster-wide with a ClusterRole when asked', () => {
    const inline = rendered.get('inline-values.yaml')!;
    expect(ofKind(inline, 'Role')).toEqual([]);
    const name = `${NAMESPACE}-mast-deploy-worker`;
    expect(find(inline, 'ClusterRoleBinding', name).roleRef).toEqual({
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'ClusterRole',
      name,
    });
    expect(find(inline, 'ClusterRoleBinding', name).subjects).toEqual(subjects);
  });
});

describe('NOTES.txt', () => {
  const notesOf = (output: string) => output.slice(output.indexOf('NOTES:'));

  it('tells a trial install how to port-forward to the gateway, and warns that bundled data is ephemeral', async () => {
    const notes = notesOf(await installDryRun([valueSet('bundled-values.yaml')]));
    expect(notes).toContain('kubectl --namespace mast-system port-forward service/mast-gateway 5000:5000');
    expect(notes).toContain('export MLFLOW_TRACKING_URI=http://localhost:5000');
    expect(notes).toContain('migrations run as the hook Job mast-migrate (post-install, pre-upgrade)');
    expect(notes).toMatch(/WARNING: bundled PostgreSQL, Redis, MinIO run as single pods/);
    expect(notes).toContain('Deploy workers roll models out to: mast-system.');
  });

  it('gives the Ingress or HTTPRoute URL, the target namespaces and KServe for a production install', async () => {
    const external = notesOf(await installDryRun([valueSet('external-values.yaml')]));
    expect(external).toContain('https://mast.example.com/');
    expect(external).toContain('export MLFLOW_TRACKING_URI=https://mast.example.com');
    expect(external).not.toContain('port-forward');
    expect(external).not.toContain('WARNING');
    const route = notesOf(await installDryRun([valueSet('inline-values.yaml')]));
    expect(route).toContain('https://mast.example.com/   (HTTPRoute mast-gateway on the Gateway public;');
    expect(route).toContain('export MLFLOW_TRACKING_URI=https://mast.example.com\n');
    expect(route).toContain('Deploy workers roll models out to: every namespace (ClusterRole).');
    const kserve = notesOf(await installDryRun([valueSet('kserve-values.yaml')]));
    expect(kserve).toContain('models-staging, models-production, KServe InferenceServices included');
  });
});

describe('values documentation', () => {
  const valuesText = readFileSync(join(CHART, 'values.yaml'), 'utf8');
  const params = [...valuesText.matchAll(/^\s*## @param (\S+)/gm)].map((match) => match[1]);

  /** Paths of the values' leaves: scalars, lists and empty maps. */
  const leaves = (value: unknown, path: string[] = []): string[] =>
    value !== null && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length > 0
      ? Object.entries(value).flatMap(([key, child]) => leaves(child, [...path, key]))
      : [path.join('.')];

  it('documents every value with an @param line, and only values that exist', () => {
    const paths = leaves(parse(valuesText));
    expect(paths.length).toBeGreaterThan(150);
    const documented = new Set(params);
    const covered = (path: string) =>
      path.split('.').some((_, i, parts) => documented.has(parts.slice(0, i + 1).join('.')));
    expect(paths.filter((path) => !covered(path))).toEqual([]);
    expect(
      params.filter((param) => !paths.some((path) => path === param || path.startsWith(`${param}.`))),
    ).toEqual([]);
    expect(new Set(params).size).toBe(params.length);
  });

  it("renders the README's production values, with the egress they need under network policies", () => {
    const readme = readFileSync(join(CHART, 'README.md'), 'utf8');
    const example = readme
      .split('The values a production install sets')[1]
      ?.match(/```yaml\n([\s\S]*?)```/)?.[1];
    expect(example).toBeDefined();
    const file = join(mkdtempSync(join(tmpdir(), 'mast-chart-')), 'readme-values.yaml');
    writeFileSync(file, example!);
    const tracking = find(ofKind(render([file]), 'NetworkPolicy'), 'NetworkPolicy', `${RELEASE}-tracking`);
    expect(tracking.spec.egress).toContainEqual(
      expect.objectContaining({ ports: expect.arrayContaining([{ port: 5432 }]) }),
    );
  });

  it("lists every @param in the README's parameter table", () => {
    const readme = readFileSync(join(CHART, 'README.md'), 'utf8').split('\n## Parameters\n')[1] ?? '';
    const rows = new Set([...readme.matchAll(/^\| `([^`]+)` +\|/gm)].map((match) => match[1]));
    expect(params.filter((param) => !rows.has(param))).toEqual([]);
    expect([...rows].filter((row) => !params.includes(row))).toEqual([]);
  });
});
