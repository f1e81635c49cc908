export {
  type Comparator,
  type Comparison,
  type FilterEntity,
  type FilterNode,
  type IdentifierRules,
  invalidComparator,
  keyValueRule,
  LIST_COMPARATORS,
  MAX_FILTER_NESTING,
  NUMERIC_COMPARATORS,
  numericAttributeRule,
  parseFilter,
  type ResolvedIdentifier,
  resolveIdentifier,
  STRING_COMPARATORS,
  unknownKeyError,
  type ValueRule,
} from './filter.js';
export { type OrderByTerm, parseOrderBy } from './order-by.js';
export { isPythonLower, splitIdentifier, unquoteKey } from './tokenizer.js';
