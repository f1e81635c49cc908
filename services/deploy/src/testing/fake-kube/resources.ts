/** The resource types the fake serves, as discovery lists them (spec deploy.md §6.2). */
export interface ResourceType {
  group: string; // '' for the core group
  version: string;
  plural: string;
  singular: string;
  kind: string;
  namespaced: boolean;
  subresources?: string[];
}

export const RESOURCE_TYPES: readonly ResourceType[] = [
  {
    group: '',
    version: 'v1',
    plural: 'pods',
    singular: 'pod',
    kind: 'Pod',
    namespaced: true,
    subresources: ['status'],
  },
  { group: '', version: 'v1', plural: 'services', singular: 'service', kind: 'Service', namespaced: true },
  { group: '', version: 'v1', plural: 'events', singular: 'event', kind: 'Event', namespaced: true },
  {
    group: 'apps',
    version: 'v1',
    plural: 'deployments',
    singular: 'deployment',
    kind: 'Deployment',
    namespaced: true,
    subresources: ['status', 'scale'],
  },
  {
    group: 'apps',
    version: 'v1',
    plural: 'replicasets',
    singular: 'replicaset',
    kind: 'ReplicaSet',
    namespaced: true,
  },
  {
    group: 'autoscaling',
    version: 'v2',
    plural: 'horizontalpodautoscalers',
    singular: 'horizontalpodautoscaler',
    kind: 'HorizontalPodAutoscaler',
    namespaced: true,
  },
  {
    group: 'policy',
    version: 'v1',
    plural: 'poddisruptionbudgets',
    singular: 'poddisruptionbudget',
    kind: 'PodDisruptionBudget',
    namespaced: true,
  },
  {
    group: 'serving.kserve.io',
    version: 'v1beta1',
    plural: 'inferenceservices',
    singular: 'inferenceservice',
    kind: 'InferenceService',
    namespaced: true,
    subresources: ['status'],
  },
];

export function groupVersion(type: ResourceType): string {
  return type.group === '' ? type.version : `${type.group}/${type.version}`;
}

export function findType(group: string, version: string, plural: string): ResourceType | undefined {
  return RESOURCE_TYPES.find((t) => t.group === group && t.version === version && t.plural === plural);
}

export function typeOfKind(apiVersion: string, kind: string): ResourceType {
  const type = RESOURCE_TYPES.find((t) => groupVersion(t) === apiVersion && t.kind === kind);
  if (!type) throw new Error(`the fake does not serve ${apiVersion} ${kind}`);
  return type;
}

const VERBS = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'];

/** `GET /api/v1` or `/apis/<group>/<version>`: an APIResourceList, or undefined for an unknown version. */
export function apiResourceList(group: string, version: string): object | undefined {
  const types = RESOURCE_TYPES.filter((t) => t.group === group && t.version === version);
  if (types.length === 0) return undefined;
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: group === '' ? version : `${group}/${version}`,
    resources: types.flatMap((t) => [
      { name: t.plural, singularName: t.singular, namespaced: t.namespaced, kind: t.kind, verbs: VERBS },
      ...(t.subresources ?? []).map((sub) => ({
        name: `${t.plural}/${sub}`,
        singularName: '',
        namespaced: t.namespaced,
        kind: sub === 'scale' ? 'Scale' : t.kind,
        verbs: ['get', 'patch', 'update'],
      })),
    ]),
  };
}

/** `GET /apis`: every non-core group with its one version. */
export function apiGroupList(): object {
  const groups = [...new Set(RESOURCE_TYPES.filter((t) => t.group !== '').map((t) => t.group))];
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: groups.map((name) => {
      const version = RESOURCE_TYPES.find((t) => t.group === name)!.version;
      const gv = { groupVersion: `${name}/${version}`, version };
      return { name, versions: [gv], preferredVersion: gv };
    }),
  };
}
