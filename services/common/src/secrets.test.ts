import { describe, expect, test } from '@jest/globals';
import { redactSecrets } from './secrets.js';

describe('redactSecrets', () => {
  test('masks a URI password, also one holding @ (the URL parser splits at the last @)', () => {
    expect(redactSecrets('postgresql://u:sekret@host:5432/db')).toBe('postgresql://u:***@host:5432/db');
    expect(redactSecrets('at postgresql://u:sec@ret@host/db now')).toBe('at postgresql://u:***@host/db now');
    expect(redactSecrets('redis://:pw@127.0.0.1:6379 and s3://AKIA:secret@bucket/p')).toBe(
      'redis://:***@127.0.0.1:6379 and s3://AKIA:***@bucket/p',
    );
  });

  test('masks secret query parameters and leaves other text alone', () => {
    expect(redactSecrets('postgresql://127.0.0.1:1/db?password=sekret&sslmode=require')).toBe(
      'postgresql://127.0.0.1:1/db?password=***&sslmode=require',
    );
    expect(redactSecrets('http://user@host/path?x=1')).toBe('http://user@host/path?x=1');
  });
});
