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
    /** LOCAL target: the tracking server model servers download from (default this process's own URL). */
    localTrackingUri?: string;
    /** LOCAL target: where served models are kept. */
    localDataDir: string;
  };
}

export const deployConfig = configFragment(
  'deploy',
  {
    MAST_REGISTRY_URL: optionalString,
    MAST_DEPLOY_WORKERS: optionalBoolean,
    MAST_DEPLOY_CONCURRENCY: positiveInteger(2),
    MAST_DEPLOY_LOCAL_TRACKING_URI: optionalString,
    MAST_DEPLOY_LOCAL_DATA_DIR: stringWithDefault('./mast-data/deployments'),
  },
  (e): DeployConfig => ({
    deploy: {
      registryUrl: e.MAST_REGISTRY_URL,
      workers: e.MAST_DEPLOY_WORKERS ?? true,
      concurrency: e.MAST_DEPLOY_CONCURRENCY,
      localTrackingUri: e.MAST_DEPLOY_LOCAL_TRACKING_URI,
      localDataDir: e.MAST_DEPLOY_LOCAL_DATA_DIR,
    },
  }),
);
