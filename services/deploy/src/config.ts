import {
  configFragment,
  optionalBoolean,
  optionalString,
  positiveInteger,
  stringWithDefault,
} from '@mast/common';

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
    /** Where downloaded models are kept (LOCAL model servers, image builds). */
    dataDir: string;
  };
}

export const deployConfig = configFragment(
  'deploy',
  {
    MAST_REGISTRY_URL: optionalString,
    MAST_DEPLOY_WORKERS: optionalBoolean,
    MAST_DEPLOY_CONCURRENCY: positiveInteger(2),
    MAST_DEPLOY_TRACKING_URI: optionalString,
    MAST_DEPLOY_DATA_DIR: stringWithDefault('./mast-data/deployments'),
  },
  (e): DeployConfig => ({
    deploy: {
      registryUrl: e.MAST_REGISTRY_URL,
      workers: e.MAST_DEPLOY_WORKERS ?? true,
      concurrency: e.MAST_DEPLOY_CONCURRENCY,
      trackingUri: e.MAST_DEPLOY_TRACKING_URI,
      dataDir: e.MAST_DEPLOY_DATA_DIR,
    },
  }),
);
