import { GraphQLError, GraphQLScalarType, Kind, print, type ValueNode } from 'graphql';
import { parseDouble } from '../request.js';
import { wireDouble } from '../wire.js';

const INTEGER = /^-?\d+$/;

function invalid(scalar: string, shown: string, hint: string): GraphQLError {
  return new GraphQLError(`${scalar} cannot represent ${shown}: ${hint}`, {
    extensions: { code: 'BAD_USER_INPUT' },
  });
}

function toLong(value: unknown): number {
  const parsed =
    typeof value === 'number'
      ? value
      : typeof value === 'bigint'
        ? Number(value)
        : typeof value === 'string' && INTEGER.test(value)
          ? Number(value)
          : Number.NaN;
  if (!Number.isSafeInteger(parsed))
    throw invalid('Long', JSON.stringify(value) ?? String(value), 'expected an integer within ±2^53.');
  return parsed;
}

/** 64-bit integers (timestamps, steps) as JSON numbers; numeric strings accepted as input. */
export const LongScalar = new GraphQLScalarType<number, number>({
  name: 'Long',
  serialize: toLong,
  parseValue: toLong,
  parseLiteral(ast: ValueNode) {
    if (ast.kind === Kind.INT || ast.kind === Kind.STRING) return toLong(ast.value);
    throw invalid('Long', print(ast), 'expected an integer within ±2^53.');
  },
});

function toDouble(value: unknown): number {
  const parsed = parseDouble(value);
  if (parsed === undefined)
    throw invalid(
      'Double',
      JSON.stringify(value) ?? String(value),
      'expected a number, "NaN", "Infinity" or "-Infinity".',
    );
  return parsed;
}

/** Doubles as JSON numbers, with NaN and the infinities as the strings MLflow's REST API writes. */
export const DoubleScalar = new GraphQLScalarType<number, number | string>({
  name: 'Double',
  serialize: (value) => wireDouble(toDouble(value)),
  parseValue: toDouble,
  parseLiteral(ast: ValueNode) {
    if (ast.kind === Kind.FLOAT || ast.kind === Kind.INT || ast.kind === Kind.STRING)
      return toDouble(ast.value);
    throw invalid('Double', print(ast), 'expected a number, "NaN", "Infinity" or "-Infinity".');
  },
});
