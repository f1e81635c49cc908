import { describe, expect, test } from '@jest/globals';
import { proxiedLocation, requestBasePath } from './base-path.js';

describe('requestBasePath', () => {
  test('what --static-prefix stripped from the URL, else nothing', () => {
    expect(
      requestBasePath({ originalUrl: '/mlflow/get-artifact?run_id=1', url: '/get-artifact?run_id=1' }),
    ).toBe('/mlflow');
    expect(requestBasePath({ originalUrl: '/get-artifact?run_id=1', url: '/get-artifact?run_id=1' })).toBe(
      '',
    );
    // Outside the prefix createHttpApp routes to a path of its own: not a prefix.
    expect(requestBasePath({ originalUrl: '/x', url: '/__outside_static_prefix__/x' })).toBe('');
  });
});

describe('proxiedLocation', () => {
  test("a path under the upstream's base moves under the proxy's", () => {
    expect(proxiedLocation('/get-artifact?a=1', '', '/mlflow')).toBe('/mlflow/get-artifact?a=1');
    expect(proxiedLocation('/inner/get-artifact?a=1', '/inner', '/mlflow')).toBe('/mlflow/get-artifact?a=1');
    expect(proxiedLocation('/inner/get-artifact', '/inner', '')).toBe('/get-artifact');
    expect(proxiedLocation('/inner', '/inner', '')).toBe('/');
  });

  test('anything else is kept', () => {
    expect(proxiedLocation('https://bucket.s3.example/key?sig=1', '', '/mlflow')).toBe(
      'https://bucket.s3.example/key?sig=1',
    );
    expect(proxiedLocation('//evil.example/x', '', '/mlflow')).toBe('//evil.example/x');
    expect(proxiedLocation('relative/x', '', '/mlflow')).toBe('relative/x');
    expect(proxiedLocation('/innerx/y', '/inner', '/mlflow')).toBe('/innerx/y');
    expect(proxiedLocation('/other/y', '/inner', '/mlflow')).toBe('/other/y');
  });
});
