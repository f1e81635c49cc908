import { z } from 'zod';
import { redactSecrets } from './secrets.js';

/**
 * Configuration is read once per process from the environment, as fragments: each fragment is a zod
 * object over the variables it reads and a typed result built from them (see config-fragments.ts).
 * A process composes the fragments it needs (`loadConfig(env, [httpConfig, databaseConfig])`), so it
 * validates only its own variables. An empty value counts as unset; every problem of every fragment
 * is collected into one ConfigError.
 */

/** A problem with one variable (or the flag that set it). */
export interface ConfigProblem {
  /** The environment variable, e.g. `MAST_PORT`. */
  variable: string;
  /** What the user set: the variable's name, or the CLI flag that set it (`--port`). */
  source: string;
  message: string;
}

/** A configuration mistake: one line, naming each variable (or flag) and what is wrong with it. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(
    message: string,
    readonly problems: ConfigProblem[] = [],
  ) {
    super(message);
  }

  static of(problems: ConfigProblem[]): ConfigError {
    return new ConfigError(
      redactSecrets(problems.map((problem) => `${problem.source}: ${problem.message}`).join('; ')),
      problems.map((problem) => ({ ...problem, message: redactSecrets(problem.message) })),
    );
  }
}

/** Reports a problem found while building a fragment's result (after zod parsed its variables). */
export type ReportProblem = (variable: string, message: string) => void;

/** A piece of configuration: the variables it reads (a zod object) and the typed result it builds. */
export interface ConfigFragment<Vars extends z.ZodRawShape = z.ZodRawShape, Out extends object = object> {
  /** A short name for documentation and errors (`http`, `database`, ...). */
  readonly name: string;
  readonly schema: z.ZodObject<Vars>;
  build(values: z.output<z.ZodObject<Vars>>, report: ReportProblem): Out;
}

/** Declares a fragment (a helper for type inference). */
export function configFragment<Vars extends z.ZodRawShape, Out extends object>(
  name: string,
  variables: Vars,
  build: (values: z.output<z.ZodObject<Vars>>, report: ReportProblem) => Out,
): ConfigFragment<Vars, Out> {
  return { name, schema: z.object(variables), build };
}

/** Any fragment, whatever its variables and result (for lists of fragments). */
// biome-ignore lint/suspicious/noExplicitAny: fragments differ in variables and results; a list holds any
export type AnyConfigFragment = ConfigFragment<any, any>;

/** The result type of a fragment. */
export type FragmentConfig<F> = F extends ConfigFragment<z.ZodRawShape, infer Out> ? Out : never;

type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void
  ? I
  : never;

/** The configuration a list of fragments composes to: the intersection of their results. */
export type ComposedConfig<F extends readonly AnyConfigFragment[]> = UnionToIntersection<
  FragmentConfig<F[number]>
> &
  object;

export interface LoadConfigOptions {
  /**
   * Where a variable's value came from when it is not the environment: a CLI flag (`{ MAST_PORT:
   * '--port' }`). Errors about the variable name the flag instead.
   */
  sources?: Record<string, string>;
}

/**
 * Validates the environment against the given fragments and builds their composed result, collecting
 * every problem into one ConfigError. Variables no fragment declares are ignored.
 */
export function composeConfig<const F extends readonly AnyConfigFragment[]>(
  env: Record<string, string | undefined>,
  fragments: F,
  options: LoadConfigOptions = {},
): ComposedConfig<F> {
  const problems: ConfigProblem[] = [];
  const report: ReportProblem = (variable, message) =>
    problems.push({ variable, source: options.sources?.[variable] ?? variable, message });
  const unique = [...new Set(fragments)];
  const config: Record<string, unknown> = {};
  for (const fragment of unique) {
    const result = fragment.schema.safeParse(env);
    if (result.success) Object.assign(config, fragment.build(result.data, report));
    else
      for (const issue of result.error.issues) report(String(issue.path[0] ?? fragment.name), issue.message);
  }
  if (problems.length > 0) throw ConfigError.of(problems);
  return config as ComposedConfig<F>;
}

// Value readers shared by the fragments. Each treats '' as unset and names what it expected.

const emptyIsUnset = (value: unknown) => (value === '' ? undefined : value);

/** An optional string (empty = unset). */
export const optionalString = z.preprocess(emptyIsUnset, z.string().optional());

/** A string with a default (empty = unset). */
export const stringWithDefault = (fallback: string) =>
  z.preprocess(emptyIsUnset, z.string().default(fallback));

/** An integer in [min, max], `fallback` when unset; the message says what was expected. */
export const integer = (fallback: number, options: { min: number; max?: number; expected: string }) =>
  z.preprocess(emptyIsUnset, z.string().optional()).transform((value, context) => {
    if (value === undefined) return fallback;
    const number = Number(value.trim());
    if (
      value.trim() === '' ||
      !Number.isInteger(number) ||
      number < options.min ||
      (options.max !== undefined && number > options.max)
    ) {
      context.addIssue({ code: 'custom', message: `expected ${options.expected}, got '${value}'` });
      return z.NEVER;
    }
    return number;
  });

/** A positive integer, `fallback` when unset. */
export const positiveInteger = (fallback: number) =>
  integer(fallback, { min: 1, expected: 'a positive integer' });

/** A non-negative integer, `fallback` when unset. */
export const nonNegativeInteger = (fallback: number) =>
  integer(fallback, { min: 0, expected: 'a non-negative integer' });

const TRUE_WORDS = ['true', '1', 'yes'];
const FALSE_WORDS = ['false', '0', 'no'];

/** `true`/`false` (also `1`/`0`, `yes`/`no`, any case); unset is `undefined`. */
export const optionalBoolean = z
  .preprocess(emptyIsUnset, z.string().optional())
  .transform((value, context) => {
    if (value === undefined) return undefined;
    const word = value.trim().toLowerCase();
    if (TRUE_WORDS.includes(word)) return true;
    if (FALSE_WORDS.includes(word)) return false;
    context.addIssue({ code: 'custom', message: `expected true or false, got '${value}'` });
    return z.NEVER;
  });

/** One of a list of words, `fallback` when unset. */
export const oneOf = <const T extends readonly [string, ...string[]]>(words: T, fallback: T[number]) =>
  z.preprocess(emptyIsUnset, z.string().optional()).transform((value, context): T[number] => {
    if (value === undefined) return fallback;
    if ((words as readonly string[]).includes(value)) return value as T[number];
    context.addIssue({ code: 'custom', message: `expected one of ${words.join(', ')}, got '${value}'` });
    return z.NEVER;
  });

/** A comma-separated list (items trimmed, empty items dropped). */
export function commaList(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/** `a=1,b=2` as `{a: '1', b: '2'}`; entries without a name are reported. */
export function namePairs(
  variable: string,
  value: string | undefined,
  report: ReportProblem,
): Record<string, string> {
  const pairs: Record<string, string> = {};
  for (const entry of commaList(value)) {
    const at = entry.indexOf('=');
    if (at <= 0) {
      report(variable, `expected name=url pairs, got '${entry}'`);
      continue;
    }
    pairs[entry.slice(0, at).trim()] = entry.slice(at + 1).trim();
  }
  return pairs;
}
