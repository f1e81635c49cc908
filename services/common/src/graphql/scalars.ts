import { GraphQLError, GraphQLScalarType, Kind, print, type ValueNode } from 'graphql';
import { parseDouble, toInt64 } from '../request.js';
import { wireDouble } from '../wire.js';

function invalid(scalar: string, shown: string, hint: string): GraphQLError {
  return new GraphQLError(`${scalar} cannot represent ${shown}: ${hint}`, {
    extensions: { code: 'BAD_USER_INPUT' },
  });
}

function toLong(value: unknown): number | bigint {
  const parsed = toInt64(value);
  if (parsed === undefined)
    throw invalid(
      'Long',
      typeof value === 'bigint' ? String(value) : (JSON.stringify(value) ?? String(value)),
      'expected a 64-bit integer.',
    );
  return parsed;
}

/** A Long as it is written in a response: a JSON number within ±(2^53-1), else its decimal string. */
function serializeLong(value: unknown): number | string {
  // An integral double beyond 2^53 (a downsampled step, approximate by nature) is written as its digits.
  if (typeof value === 'number' && Number.isInteger(value) && !Number.isSafeInteger(value))
    return BigInt(value).toString();
  const parsed = toLong(value);
  return typeof parsed === 'bigint' ? String(parsed) : parsed;
}

/**
 * 64-bit integers (timestamps, steps). Written as JSON numbers while a double holds them exactly
 * (within ±(2^53-1)); beyond, as decimal strings, so `2^63-1` reads back digit for digit (a JSON number
 * would be rounded by every JavaScript client, and by the gateway's own JSON parsing). Numbers and
 * numeric strings are accepted as input, over the whole int64 range; resolvers get a `number`, or a
 * `bigint` beyond 2^53.
 */
export const LongScalar = new GraphQLScalarType<number | bigint, number | string>({
  name: 'Long',
  serialize: serializeLong,
  parseValue: toLong,
  parseLiteral(ast: ValueNode) {
    if (ast.kind === Kind.INT || ast.kind === Kind.STRING) return toLong(ast.value);
    throw invalid('Long', print(ast), 'expected a 64-bit integer.');
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
