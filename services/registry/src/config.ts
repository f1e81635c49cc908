import { configFragment, optionalString } from '@mast/common';

/** The registry's own settings. */
export interface RegistryConfig {
  registry: {
    /** Tracking's base URL, for a registry running as its own process (logged-model lookups). */
    trackingUrl?: string;
    /** MLflow's allow-list for model version sources (`re.search` semantics). */
    sourceValidationRegex?: string;
  };
}

export const registryConfig = configFragment(
  'registry',
  {
    MAST_TRACKING_URL: optionalString,
    MLFLOW_CREATE_MODEL_VERSION_SOURCE_VALIDATION_REGEX: optionalString,
  },
  (e, report): RegistryConfig => {
    const regex = e.MLFLOW_CREATE_MODEL_VERSION_SOURCE_VALIDATION_REGEX;
    if (regex !== undefined) {
      try {
        new RegExp(regex);
      } catch (error) {
        report(
          'MLFLOW_CREATE_MODEL_VERSION_SOURCE_VALIDATION_REGEX',
          `not a valid regular expression: ${(error as Error).message}`,
        );
      }
    }
    return { registry: { trackingUrl: e.MAST_TRACKING_URL, sourceValidationRegex: regex } };
  },
);
