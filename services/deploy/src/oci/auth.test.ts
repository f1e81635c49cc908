import { describe, expect, it } from '@jest/globals';
import { basicAuthorization, credentialsFromDockerConfig, parseChallenge } from './auth.js';

const b64 = (text: string) => Buffer.from(text).toString('base64');

describe('credentialsFromDockerConfig', () => {
  const config = JSON.stringify({
    auths: {
      'https://registry.example:5000/v2/': { auth: b64('robot:pa:ss') },
      'ghcr.io': { username: 'me', password: 'token' },
      'https://index.docker.io/v1/': { auth: b64('hub:secret') },
    },
  });

  it('matches a key with scheme and path by host, and splits auth at the first colon', () => {
    expect(credentialsFromDockerConfig(config, 'registry.example:5000')).toEqual({
      username: 'robot',
      password: 'pa:ss',
    });
    expect(credentialsFromDockerConfig(config, 'ghcr.io')).toEqual({ username: 'me', password: 'token' });
    expect(credentialsFromDockerConfig(config, 'registry.example')).toBeUndefined();
  });

  it('matches Docker Hub under any of its names', () => {
    expect(credentialsFromDockerConfig(config, 'registry-1.docker.io')).toEqual({
      username: 'hub',
      password: 'secret',
    });
  });

  it('refuses a document that is not JSON or an auth without a colon', () => {
    expect(() => credentialsFromDockerConfig('{', 'x')).toThrow(/not valid JSON/);
    expect(() => credentialsFromDockerConfig({ auths: { x: { auth: b64('nocolon') } } }, 'x')).toThrow(
      /user:password/,
    );
  });
});

describe('parseChallenge', () => {
  it('reads Bearer parameters, quoted values with commas included', () => {
    expect(
      parseChallenge(
        'Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push"',
      ),
    ).toEqual({
      scheme: 'bearer',
      params: {
        realm: 'https://auth.example/token',
        service: 'registry.example',
        scope: 'repository:a/b:pull,push',
      },
    });
  });

  it('reads Basic and nothing', () => {
    expect(parseChallenge('Basic realm="mast-test"')).toEqual({
      scheme: 'basic',
      params: { realm: 'mast-test' },
    });
    expect(parseChallenge(null)).toBeUndefined();
  });

  it('encodes Basic credentials', () => {
    expect(basicAuthorization({ username: 'a', password: 'b' })).toBe(`Basic ${b64('a:b')}`);
  });
});
