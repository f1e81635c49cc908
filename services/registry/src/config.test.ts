import { describe, expect, test } from '@jest/globals';
import { ConfigError, loadConfig } from '@mast/common';
import { registryConfig } from './config.js';

describe('registry configuration', () => {
  test('defaults and values', () => {
    expect(loadConfig({}, [registryConfig])).toEqual({ registry: {} });
    expect(
      loadConfig(
        {
          MAST_TRACKING_URL: 'http://tracking:5000',
          MLFLOW_CREATE_MODEL_VERSION_SOURCE_VALIDATION_REGEX: '^mlflow-artifacts:/.*$',
        },
        [registryConfig],
      ),
    ).toEqual({
      registry: { trackingUrl: 'http://tracking:5000', sourceValidationRegex: '^mlflow-artifacts:/.*$' },
    });
  });

  test('an invalid source regex is a configuration error naming the variable', () => {
    expect(() =>
      loadConfig({ MLFLOW_CREATE_MODEL_VERSION_SOURCE_VALIDATION_REGEX: '(' }, [registryConfig]),
    ).toThrow(ConfigError);
    expect(() =>
      loadConfig({ MLFLOW_CREATE_MODEL_VERSION_SOURCE_VALIDATION_REGEX: '(' }, [registryConfig]),
    ).toThrow(/MLFLOW_CREATE_MODEL_VERSION_SOURCE_VALIDATION_REGEX: not a valid regular expression/);
  });
});
