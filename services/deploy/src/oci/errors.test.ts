import { describe, expect, it } from '@jest/globals';
import { registryError } from './errors.js';

describe('registryError', () => {
  it('takes code and message from the OCI error body', () => {
    const error = registryError(
      'reg:5000',
      'PUT manifest a:1',
      403,
      '{"errors":[{"code":"DENIED","message":"requested access to the resource is denied","detail":null}]}',
    );
    expect(error).toMatchObject({ code: 'DENIED', status: 403, retryable: false });
    expect(error.message).toBe(
      'registry reg:5000: PUT manifest a:1 failed: 403 DENIED: requested access to the resource is denied',
    );
  });

  it('falls back to the status for a body that is not an error document, and retries 5xx and 429', () => {
    expect(registryError('r', 'HEAD blob', 404, '')).toMatchObject({
      code: 'HTTP_404',
      message: 'registry r: HEAD blob failed: 404 HTTP_404',
    });
    expect(registryError('r', 'x', 502, '<html>Bad gateway</html>\nmore')).toMatchObject({
      code: 'HTTP_502',
      retryable: true,
      message: 'registry r: x failed: 502 HTTP_502: <html>Bad gateway</html>',
    });
    expect(
      registryError('r', 'x', 429, '{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}').retryable,
    ).toBe(true);
  });
});
