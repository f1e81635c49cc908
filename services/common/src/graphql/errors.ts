import { GraphQLError, type GraphQLFieldResolver } from 'graphql';
import { isConnectionError, MlflowError, unavailable } from '../errors.js';

/**
 * Errors as GraphQL errors whose `extensions.code` is the MLflow error code. The code is set where the
 * error is raised (not by a server's formatError), so it survives both wirings: the gateway copies a
 * subgraph error's extensions whether the subgraph answered over HTTP or in-process.
 */
export function toGraphQLError(error: unknown): GraphQLError {
  if (error instanceof GraphQLError) {
    if (error.originalError instanceof MlflowError) return toGraphQLError(error.originalError);
    return error;
  }
  if (isConnectionError(error)) {
    const mapped = unavailable();
    return new GraphQLError(mapped.message, {
      extensions: { code: mapped.code },
      originalError: error instanceof Error ? error : mapped,
    });
  }
  if (error instanceof MlflowError) {
    return new GraphQLError(error.message, { extensions: { code: error.code }, originalError: error });
  }
  return new GraphQLError('Internal server error', {
    extensions: { code: 'INTERNAL_ERROR' },
    originalError: error instanceof Error ? error : new Error(String(error)),
  });
}

/** PostgreSQL text cannot hold NUL characters: such arguments are bad input, not a database failure. */
function rejectNul(value: unknown, path: string): void {
  if (typeof value === 'string') {
    if (value.includes('\u0000')) {
      throw MlflowError.invalidParameter(
        `Invalid value for '${path}': strings may not contain NUL characters.`,
      );
    }
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => {
      rejectNul(item, `${path}[${i}]`);
    });
  } else if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) rejectNul(item, path ? `${path}.${key}` : key);
  }
}

type AnyResolver = GraphQLFieldResolver<unknown, unknown, Record<string, unknown>>;

/** Calls `run`, mapping a thrown error or a rejected promise (no promise is added for sync results). */
function mapped<T>(run: () => T): T {
  let result: T;
  try {
    result = run();
  } catch (error) {
    throw toGraphQLError(error);
  }
  if (result instanceof Promise) {
    return result.catch((error: unknown) => {
      throw toGraphQLError(error);
    }) as T;
  }
  return result;
}

function wrap(resolve: AnyResolver): AnyResolver {
  return (parent, args, context, info) =>
    mapped(() => {
      rejectNul(args, '');
      return resolve(parent, args, context, info);
    });
}

/**
 * Wraps every resolver of a resolver map (fields and `__resolveReference`) so thrown errors carry their
 * MLflow code and arguments are screened for NUL characters. Scalars and enums pass through.
 */
export function withErrorCodes<T extends object>(resolvers: T): T {
  const wrapped: Record<string, unknown> = {};
  for (const [typeName, fields] of Object.entries(resolvers)) {
    if (typeof fields !== 'object' || fields === null || fields.constructor !== Object) {
      wrapped[typeName] = fields;
      continue;
    }
    const out: Record<string, unknown> = {};
    for (const [fieldName, resolver] of Object.entries(fields as Record<string, unknown>)) {
      if (fieldName === '__resolveReference' && typeof resolver === 'function') {
        const resolveReference = resolver as (reference: unknown, context: unknown, info: unknown) => unknown;
        out[fieldName] = (reference: unknown, context: unknown, info: unknown) =>
          mapped(() => resolveReference(reference, context, info));
      } else {
        out[fieldName] = typeof resolver === 'function' ? wrap(resolver as AnyResolver) : resolver;
      }
    }
    wrapped[typeName] = out;
  }
  return wrapped as T;
}
