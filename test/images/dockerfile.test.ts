import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { SERVING_IMAGE_ENV } from '@mast/model-server';
import { validate } from 'dockerfile-utils';
import { DEFAULT_MODEL_SERVER_IMAGE } from '../../services/deploy/src/config.js';
import {
  DOCKERFILE,
  finalStages,
  imageConfig,
  lineage,
  PRODUCTION_TARGETS,
  parseStages,
  ROOT,
  TARGETS,
} from './dockerfile.js';

/**
 * The Dockerfile, read without a Docker engine (none runs here): dockerfile-utils' linter (the engine
 * of VS Code's Docker support) and Mast's own rules for its images; then scripts/images.sh against a
 * stand-in `docker` that records what it is asked to do.
 */

const stages = parseStages();
const rootPackage = JSON.parse(await readFile(`${ROOT}package.json`, 'utf8')) as { workspaces: string[] };
const versionOf = async (target: string) =>
  (JSON.parse(await readFile(`${ROOT}services/${target}/package.json`, 'utf8')) as { version: string })
    .version;

describe('Dockerfile', () => {
  test('dockerfile-utils finds no problem', () => {
    expect(
      validate(DOCKERFILE).map((problem) => `line ${problem.range.start.line + 1}: ${problem.message}`),
    ).toEqual([]);
  });

  test('the targets are exactly the six production images and dev', () => {
    expect(finalStages(stages).sort()).toEqual([...TARGETS].sort());
  });

  test('no base image is untagged or latest', () => {
    const images = stages
      .map((stage) => stage.from)
      .filter((from) => !stages.some((stage) => stage.name === from));
    expect(images.length).toBeGreaterThan(0);
    for (const image of images) expect(image).toMatch(/^[\w./-]+:(?!latest$)[\w.-]+$/);
  });

  test.each(PRODUCTION_TARGETS)(
    '%s: Node 22 slim, user 1001, 0.0.0.0, EXPOSE = MAST_PORT, its main.js',
    async (target) => {
      const config = imageConfig(stages, target);
      expect(config.baseImage).toMatch(/^node:22[\w.-]*-slim$/);
      expect(config.user).toBe('1001:1001');
      expect(config.env).toMatchObject({ NODE_ENV: 'production', MAST_HOST: '0.0.0.0' });
      expect(config.exposedPorts).toEqual([config.env.MAST_PORT]);
      expect(config.entrypoint).toEqual(['node', `services/${target}/dist/main.js`]);
      await expect(readFile(`${ROOT}services/${target}/src/main.ts`, 'utf8')).resolves.toContain('run');
    },
  );

  test.each(PRODUCTION_TARGETS)(
    '%s: /app is assembled by scripts/image-contents.sh (what test/images runs)',
    (target) => {
      const runs = lineage(stages, target)
        .flatMap((stage) => stage.instructions)
        .filter((instruction) => instruction.getKeyword() === 'RUN')
        .map((instruction) => instruction.getArguments().map((argument) => argument.getValue()));
      expect(runs).toContainEqual(['bash', '/src/scripts/image-contents.sh', target, '/app']);
    },
  );

  test('the model-server image serves as deploy expects: SERVING_IMAGE_ENV, named as deploy defaults', async () => {
    expect(imageConfig(stages, 'model-server').env).toMatchObject(SERVING_IMAGE_ENV);
    expect(DEFAULT_MODEL_SERVER_IMAGE).toBe(
      `ghcr.io/mast-mlops/model-server:${await versionOf('model-server')}`,
    );
  });

  test('deploy writes its data under /data (an emptyDir beside the read-only root file system)', () => {
    expect(imageConfig(stages, 'deploy').env.MAST_DEPLOY_DATA_DIR).toMatch(/^\/data\//);
  });

  test('the build stage copies every workspace manifest before npm ci (so the lockfile matches)', () => {
    const copied = parseStages()
      .find((stage) => stage.name === 'build')!
      .instructions.filter((instruction) => instruction.getKeyword() === 'COPY')
      .flatMap((instruction) => instruction.getArguments().map((argument) => argument.getValue()));
    for (const workspace of rootPackage.workspaces) expect(copied).toContain(`${workspace}/package.json`);
  });

  test('dev: non-root, 0.0.0.0, runs a service with node --watch', () => {
    const config = imageConfig(stages, 'dev');
    expect(config.user).toMatch(/^[1-9]\d*:\d+$/);
    expect(config.env.MAST_HOST).toBe('0.0.0.0');
    expect(config.exposedPorts).toEqual([config.env.MAST_PORT]);
    expect(config.entrypoint?.join(' ')).toContain('node --watch');
  });
});

describe('scripts/images.sh (no Docker engine here: a stand-in docker records the commands)', () => {
  let bin: string;
  let log: string;
  beforeAll(async () => {
    bin = await mkdtemp(join(tmpdir(), 'mast-images-'));
    log = join(bin, 'docker.log');
    await writeFile(
      join(bin, 'docker'),
      '#!/bin/sh\nif [ "$1" = info ]; then exit "$DOCKER_INFO_EXIT"; fi\necho "$*" >> "$DOCKER_LOG"\n',
    );
    await chmod(join(bin, 'docker'), 0o755);
  });
  afterAll(() => rm(bin, { recursive: true, force: true }));

  const images = (args: string[], infoExit: number) =>
    promisify(execFile)('bash', [`${ROOT}scripts/images.sh`, ...args], {
      env: { PATH: `${bin}:${process.env.PATH}`, DOCKER_INFO_EXIT: String(infoExit), DOCKER_LOG: log },
    }).then(
      ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
      (error: { code: number; stdout: string; stderr: string }) => error,
    );

  test('builds every production target as ghcr.io/mast-mlops/<target>:<its version>', async () => {
    await rm(log, { force: true });
    const { code } = await images([], 0);
    expect(code).toBe(0);
    const expected = await Promise.all(
      PRODUCTION_TARGETS.map(
        async (target) =>
          `build --target ${target} -t ghcr.io/mast-mlops/${target}:${await versionOf(target)} .`,
      ),
    );
    expect((await readFile(log, 'utf8')).trim().split('\n')).toEqual(expected);
  });

  test('without a Docker engine: one line saying so, exit 1, nothing built', async () => {
    await rm(log, { force: true });
    const { code, stderr } = await images([], 1);
    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toEqual([expect.stringContaining('a Docker engine is needed')]);
    await expect(readFile(log, 'utf8')).rejects.toThrow('ENOENT');
  });

  test('--help names the targets; an unknown target is refused', async () => {
    const help = await images(['--help'], 1);
    expect(help.code).toBe(0);
    for (const target of PRODUCTION_TARGETS) expect(help.stdout).toContain(target);
    const unknown = await images(['web'], 0);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown target 'web'");
  });
});
