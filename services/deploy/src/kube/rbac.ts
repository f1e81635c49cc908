/** An RBAC PolicyRule (rbac.authorization.k8s.io/v1), as a Role lists them. */
export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

/**
 * Every Kubernetes request the deploy worker makes (KubeClient, ObjectWatch), as RBAC rules: the
 * worker's Role in the Helm chart (charts/mast/templates/deploy-worker/rbac.yaml) holds exactly these,
 * and the chart tests compare the two. Server-side apply is a PATCH, plus `create` when it creates the
 * object; rollouts list and watch Deployments and their Pods; a canary Deployment is deleted on
 * promotion or rollback, and an HPA or PDB when the spec that replaces it (a new one, or the
 * last-good one on rollback) has none. The kube tests check that the fake API server receives nothing
 * else, apart from reads of one object: only tests call KubeClient.read (worker code that does needs
 * `get` here).
 */
export const DEPLOY_WORKER_RULES: readonly PolicyRule[] = [
  { apiGroups: ['apps'], resources: ['deployments'], verbs: ['create', 'delete', 'list', 'patch', 'watch'] },
  { apiGroups: [''], resources: ['pods'], verbs: ['list', 'watch'] },
  { apiGroups: [''], resources: ['services'], verbs: ['create', 'patch'] },
  {
    apiGroups: ['autoscaling'],
    resources: ['horizontalpodautoscalers'],
    verbs: ['create', 'delete', 'patch'],
  },
  { apiGroups: ['policy'], resources: ['poddisruptionbudgets'], verbs: ['create', 'delete', 'patch'] },
];

/** What targets in KServe mode add: InferenceServices applied, listed and watched. */
export const KSERVE_RULES: readonly PolicyRule[] = [
  {
    apiGroups: ['serving.kserve.io'],
    resources: ['inferenceservices'],
    verbs: ['create', 'list', 'patch', 'watch'],
  },
];
