import { describe, expect, it } from '@jest/globals';
import { formatReference, parseReference } from './reference.js';

describe('parseReference', () => {
  it('reads host, port, nested repository, tag and digest', () => {
    expect(parseReference('127.0.0.1:5000/team/models/iris:1.0')).toEqual({
      registry: '127.0.0.1:5000',
      repository: 'team/models/iris',
      tag: '1.0',
      digest: undefined,
      reference: '1.0',
    });
    const digest = `sha256:${'a'.repeat(64)}`;
    expect(parseReference(`ghcr.io/mast/server:2@${digest}`)).toMatchObject({
      tag: '2',
      digest,
      reference: digest,
    });
    expect(parseReference('localhost/app')).toMatchObject({
      registry: 'localhost',
      repository: 'app',
      reference: 'latest',
    });
  });

  it('puts names without a registry host on Docker Hub, single names under library/', () => {
    expect(parseReference('python:3.11-slim')).toMatchObject({
      registry: 'registry-1.docker.io',
      repository: 'library/python',
      tag: '3.11-slim',
    });
    expect(parseReference('docker.io/bitnami/redis')).toMatchObject({
      registry: 'registry-1.docker.io',
      repository: 'bitnami/redis',
    });
  });

  it('refuses names, tags and digests the distribution grammar rejects', () => {
    expect(() => parseReference('127.0.0.1:5000/Upper/case')).toThrow(/not a valid OCI name/);
    expect(() => parseReference('127.0.0.1:5000/app:-bad')).toThrow(/the tag must match/);
    expect(() => parseReference('127.0.0.1:5000/app@sha256:abc')).toThrow(/the digest must be/);
    expect(() => parseReference('127.0.0.1:5000/app:bad')).not.toThrow();
  });

  it('formats back', () => {
    expect(formatReference(parseReference('r.io/a/b'))).toBe('r.io/a/b:latest');
  });
});
