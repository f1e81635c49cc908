import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DockerfileParser, type Env, type From, type Instruction } from 'dockerfile-ast';

/** The repository's root, where the Dockerfile and the image scripts are. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export const DOCKERFILE = readFileSync(`${ROOT}Dockerfile`, 'utf8');

/** The images Mast publishes (ghcr.io/mast-mlops/<target>) and the Tilt image. */
export const PRODUCTION_TARGETS = ['gateway', 'tracking', 'registry', 'artifact', 'deploy', 'model-server'];
export const TARGETS = [...PRODUCTION_TARGETS, 'dev'];

/** One build stage: its name, what it starts FROM (an image or another stage) and its instructions. */
export interface Stage {
  name: string;
  from: string;
  instructions: Instruction[];
}

export function parseStages(text = DOCKERFILE): Stage[] {
  const stages: Stage[] = [];
  for (const instruction of DockerfileParser.parse(text).getInstructions()) {
    if (instruction.getKeyword() === 'FROM') {
      const from = instruction as From;
      stages.push({ name: from.getBuildStage() ?? '', from: from.getImage() ?? '', instructions: [] });
    } else {
      stages.at(-1)?.instructions.push(instruction);
    }
  }
  return stages;
}

/** A stage's image as Docker builds it: the stages it derives from, the base image's side first. */
export function lineage(stages: Stage[], name: string): Stage[] {
  const stage = stages.find((candidate) => candidate.name === name);
  if (!stage) throw new Error(`no stage named ${name}`);
  return [...(stages.some((parent) => parent.name === stage.from) ? lineage(stages, stage.from) : []), stage];
}

/** The effective settings of a target's image: its base image and its last ENV, USER, EXPOSE, ENTRYPOINT. */
export interface ImageConfig {
  baseImage: string;
  env: Record<string, string>;
  user?: string;
  exposedPorts: string[];
  entrypoint?: string[];
}

export function imageConfig(stages: Stage[], target: string): ImageConfig {
  const chain = lineage(stages, target);
  const config: ImageConfig = { baseImage: chain[0].from, env: {}, exposedPorts: [] };
  for (const instruction of chain.flatMap((stage) => stage.instructions)) {
    switch (instruction.getKeyword()) {
      case 'ENV':
        for (const property of (instruction as Env).getProperties()) {
          config.env[property.getName()] = property.getValue() ?? '';
        }
        break;
      case 'USER':
        config.user = instruction.getArgumentsContent() ?? undefined;
        break;
      case 'EXPOSE':
        config.exposedPorts.push(...instruction.getArguments().map((argument) => argument.getValue()));
        break;
      case 'ENTRYPOINT':
        config.entrypoint = JSON.parse(instruction.getArgumentsContent() ?? 'null') as string[];
        break;
    }
  }
  return config;
}

/** The stages no other stage builds on: the images `docker build --target` is meant for. */
export function finalStages(stages: Stage[]): string[] {
  const used = new Set(
    stages.flatMap((stage) => [
      stage.from,
      ...stage.instructions.flatMap((instruction) =>
        [...instruction.toString().matchAll(/from=([\w-]+)/g)].map((match) => match[1]),
      ),
    ]),
  );
  return stages.map((stage) => stage.name).filter((name) => !used.has(name));
}
