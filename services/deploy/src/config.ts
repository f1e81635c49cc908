import {
  commaList,
  configFragment,
  optionalBoolean,
  optionalString,
  positiveInteger,
  stringWithDefault,
} from '@mast/common';

/** Mast's model server image, the base of images of flavors it runs (built by `npm run images`). */
export const DEFAULT_MODEL_SERVER_IMAGE = 'ghcr.io/mast-mlops/model-server:0.1.0';
/** MLflow's own image (Python with mlflow), the base of images of every other flavor. */
export const DEFAULT_PYTHON_IMAGE = 'ghcr.io/mlflow/mlflow:v3.11.0';

/** The deploy service's own settings. */
export interface DeployConfig {
  deploy: {
    /** The registry's base URL, for deploy as its own process (manual deploys check the version there). */
    registryUrl?: string;
    /** Whether this process runs the registry-event subscriber and the pipeline worker (default true). */
    workers: boolean;
    /** Deployments run at once by this process's pipeline worker. */
    concurrency: number;
    /**
     * The tracking server (gateway) model files are downloaded from, for images and LOCAL model
     * servers; default this process's own URL (the all-in-one server serves tracking itself).
     */
    trackingUri?: string;
    /** Where downloaded models and the image build cache are kept. */
    dataDir: string;
    /** Base images of model images. */
    baseImages: { modelServer: string; python: string };
    /** A dockerconfigjson file with the image registries' credentials. */
    registryAuthFile?: string;
    /** Registries reached over plain HTTP (`host:port`). */
    insecureRegistries: string[];
    /** The cluster's credentials: a kubeconfig file, or the in-cluster ServiceAccount. */
    kubernetes: { kubeconfig?: string; inCluster: boolean };
    /** A Deployment's `progressDeadlineSeconds`. */
    progressDeadlineSeconds: number;
  };
}

export const deployConfig = configFragment(
  'deploy',
  {
    MAST_REGISTRY_URL: optionalString,
    MAST_DEPLOY_WORKERS: optionalBoolean,
    MAST_DEPLOY_CONCURRENCY: positiveInteger(1),
    MAST_DEPLOY_TRACKING_URI: optionalString,
    MAST_DEPLOY_DATA_DIR: stringWithDefault('./mast-data/deployments'),
    MAST_DEPLOY_MODEL_SERVER_IMAGE: stringWithDefault(DEFAULT_MODEL_SERVER_IMAGE),
    MAST_DEPLOY_PYTHON_IMAGE: stringWithDefault(DEFAULT_PYTHON_IMAGE),
    MAST_DEPLOY_REGISTRY_AUTH_FILE: optionalString,
    MAST_DEPLOY_INSECURE_REGISTRIES: optionalString,
    MAST_DEPLOY_PROGRESS_DEADLINE: positiveInteger(600),
    KUBECONFIG: optionalString,
    KUBERNETES_SERVICE_HOST: optionalString,
  },
  (e): DeployConfig => ({
    deploy: {
      registryUrl: e.MAST_REGISTRY_URL,
      workers: e.MAST_DEPLOY_WORKERS ?? true,
      concurrency: e.MAST_DEPLOY_CONCURRENCY,
      trackingUri: e.MAST_DEPLOY_TRACKING_URI,
      dataDir: e.MAST_DEPLOY_DATA_DIR,
      baseImages: { modelServer: e.MAST_DEPLOY_MODEL_SERVER_IMAGE, python: e.MAST_DEPLOY_PYTHON_IMAGE },
      registryAuthFile: e.MAST_DEPLOY_REGISTRY_AUTH_FILE,
      insecureRegistries: commaList(e.MAST_DEPLOY_INSECURE_REGISTRIES),
      kubernetes: { kubeconfig: e.KUBECONFIG, inCluster: e.KUBERNETES_SERVICE_HOST !== undefined },
      progressDeadlineSeconds: e.MAST_DEPLOY_PROGRESS_DEADLINE,
    },
  }),
);
