import { describe, expect, it } from '@jest/globals';
import { type IndexEntry, parsePlatform, selectPlatform } from './platform.js';

const entry = (
  digest: string,
  platform?: IndexEntry['platform'],
  annotations?: Record<string, string>,
): IndexEntry => ({
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  digest,
  size: 1,
  platform,
  annotations,
});

describe('selectPlatform', () => {
  const entries = [
    entry(
      'attestation',
      { os: 'unknown', architecture: 'unknown' },
      { 'vnd.docker.reference.type': 'attestation-manifest' },
    ),
    entry('arm-v7', { os: 'linux', architecture: 'arm', variant: 'v7' }),
    entry('arm64', { os: 'linux', architecture: 'arm64', variant: 'v8' }),
    entry('amd64', { os: 'linux', architecture: 'amd64' }),
  ];

  it('matches os and architecture, and variant only when asked for', () => {
    expect(selectPlatform(entries, parsePlatform('linux/arm64'), 'b').digest).toBe('arm64');
    expect(selectPlatform(entries, parsePlatform('linux/arm64/v8'), 'b').digest).toBe('arm64');
    expect(selectPlatform(entries, parsePlatform('linux/amd64'), 'b').digest).toBe('amd64');
  });

  it('treats an entry without platform as linux/amd64 and the first match wins', () => {
    expect(selectPlatform([entry('bare'), ...entries], parsePlatform('linux/amd64'), 'b').digest).toBe(
      'bare',
    );
  });

  it('never picks an attestation manifest and lists what is offered', () => {
    expect(() => selectPlatform(entries, parsePlatform('unknown/unknown'), 'reg/base:1')).toThrow(
      'base image reg/base:1 has no unknown/unknown image (it offers: linux/arm/v7, linux/arm64/v8, linux/amd64)',
    );
    expect(() => selectPlatform(entries, parsePlatform('linux/arm/v6'), 'b')).toThrow(
      /has no linux\/arm\/v6/,
    );
  });

  it('refuses a malformed platform', () => {
    expect(() => parsePlatform('linux')).toThrow(/expected os\/architecture/);
  });
});
