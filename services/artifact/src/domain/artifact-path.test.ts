import { describe, expect, test } from '@jest/globals';
import {
  artifactBasename,
  clientFileName,
  fullyDecode,
  joinArtifactPath,
  safeArtifactPath,
} from './artifact-path.js';

describe('safeArtifactPath', () => {
  test.each([
    ['model/MLmodel', 'model/MLmodel'],
    ['a//b/./c/', 'a/b/c'],
    ['./model.pkl', 'model.pkl'],
    ['1/abc/artifacts/with space.txt', '1/abc/artifacts/with space.txt'],
    // Paths arrive decoded once (by HTTP, or literal from JSON): `%` sequences are part of the name.
    ['a%20b.txt', 'a%20b.txt'],
    ['a%2520b.txt', 'a%2520b.txt'],
    ['50%off.txt', '50%off.txt'],
    ['a%00.txt', 'a%00.txt'],
    [
      'images/loss%step%0%timestamp%1712345678901%5c0e1f.png',
      'images/loss%step%0%timestamp%1712345678901%5c0e1f.png',
    ],
    [
      'images/acc%step%23%timestamp%1712345678901%2f9a.png',
      'images/acc%step%23%timestamp%1712345678901%2f9a.png',
    ],
    ['unicode/ünï.txt', 'unicode/ünï.txt'],
    ['..foo/bar..', '..foo/bar..'],
    ['a:b.txt', 'a:b.txt'],
  ])('%s is %s', (raw, expected) => {
    expect(safeArtifactPath(raw)).toBe(expected);
  });

  test.each([
    ['..', 'dot-dot'],
    ['../etc/passwd', 'leading dot-dot'],
    ['a/../../etc/passwd', 'inner dot-dot'],
    ['a/..', 'trailing dot-dot'],
    ['/etc/passwd', 'absolute'],
    ['//etc/passwd', 'double-slash absolute'],
    ['%2e%2e/etc/passwd', 'encoded dots'],
    ['%2E%2E%2Fetc%2Fpasswd', 'encoded dots and separators'],
    ['a%2f..%2f..%2fetc', 'encoded separators around dots'],
    ['%252e%252e%252fetc', 'double-encoded'],
    ['%25252e%25252e/etc', 'triple-encoded'],
    ['%2fetc%2fpasswd', 'encoded absolute'],
    ['..\\etc\\passwd', 'backslashes'],
    ['a\\..\\..\\etc', 'backslash traversal'],
    ['..%5cetc', 'encoded backslash'],
    ['a\u0000b', 'NUL'],
    ['..%5cetc', 'encoded backslash around dots'],
    ['a%255c..%255c..%255cetc', 'double-encoded backslash traversal'],
    ['%255cetc', 'double-encoded leading backslash'],
    ['x/%2e%2e', 'encoded trailing dot-dot'],
    ['a\nb', 'newline'],
    ['file:///etc/passwd', 'file URI'],
    ['s3://bucket/key', 'S3 URI'],
    ['C:/Windows/win.ini', 'drive letter'],
    ['C:\\Windows', 'drive letter with backslash'],
    ['a#b', 'fragment'],
  ])('%s (%s) is rejected', (raw) => {
    expect(() => safeArtifactPath(raw)).toThrow(expect.objectContaining({ code: 'INVALID_PARAMETER_VALUE' }));
    expect(() => safeArtifactPath(raw)).toThrow(/^Invalid path/);
  });

  test('the root is only acceptable where asked for', () => {
    expect(() => safeArtifactPath('')).toThrow(/file or directory name is required/);
    expect(() => safeArtifactPath('./')).toThrow(/file or directory name is required/);
    expect(safeArtifactPath('', { allowRoot: true })).toBe('');
    expect(() => safeArtifactPath('/', { allowRoot: true })).toThrow(/^Invalid path$/);
  });

  test('endlessly encoded input is refused, overlong paths too', () => {
    let raw = '..';
    for (let i = 0; i < 12; i++) raw = encodeURIComponent(raw).replaceAll('.', '%2E');
    expect(() => fullyDecode(raw)).toThrow(/^Invalid path$/);
    expect(() => safeArtifactPath('a/'.repeat(600))).toThrow(/longer than 1024/);
  });
});

describe('helpers', () => {
  test('join, basename and client file names', () => {
    expect(joinArtifactPath('', 'a', '', 'b/c')).toBe('a/b/c');
    expect(artifactBasename('a/b/model.pkl')).toBe('model.pkl');
    expect(artifactBasename('model.pkl')).toBe('model.pkl');
    expect(clientFileName('/tmp/xyz/model.bin')).toBe('model.bin');
    expect(clientFileName('C:\\Users\\ada\\model.bin')).toBe('model.bin');
    expect(() => clientFileName('/tmp/..')).toThrow(/Invalid path/);
    expect(() => clientFileName('x%2F..%2F..%2Fy')).toThrow(/Invalid path/);
  });
});
