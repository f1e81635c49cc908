import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import {
  type ConstDirectiveNode,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  GraphQLError,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLOutputType,
  type GraphQLSchema,
  getArgumentValues,
  getNamedType,
  isCompositeType,
  isInterfaceType,
  isListType,
  isNonNullType,
  isObjectType,
  Kind,
  type OperationDefinitionNode,
  parse,
  type SelectionSetNode,
  valueFromASTUntyped,
} from 'graphql';

/** Size assumed for a list field that declares no `@listSize`. */
export const DEFAULT_LIST_SIZE = 10;

/** Fields visited before an operation is rejected outright (guards against fragment fan-out). */
const MAX_VISITS = 100_000;

export interface OperationLimits {
  /** Deepest nesting of fields (the root fields are at depth 1). */
  maxDepth: number;
  /** Highest estimated cost (see `estimateCost`). */
  maxCost: number;
}

interface FieldCost {
  weight?: number;
  assumedSize?: number;
  slicingArguments?: string[];
  sizedFields?: string[];
}

/**
 * The `@cost(weight)` and `@listSize(assumedSize, slicingArguments, sizedFields)` directives of a
 * supergraph (Federation 2.9's demand-control directives, which subgraphs declare and composition
 * keeps), by `Type.field`.
 */
export class CostModel {
  constructor(private readonly fields: Map<string, FieldCost> = new Map()) {}

  static fromSupergraph(supergraphSdl: string): CostModel {
    const fields = new Map<string, FieldCost>();
    const document = parse(supergraphSdl);
    for (const definition of document.definitions) {
      if (
        definition.kind !== Kind.OBJECT_TYPE_DEFINITION &&
        definition.kind !== Kind.OBJECT_TYPE_EXTENSION &&
        definition.kind !== Kind.INTERFACE_TYPE_DEFINITION
      ) {
        continue;
      }
      for (const field of definition.fields ?? []) {
        const cost: FieldCost = {};
        for (const directive of field.directives ?? []) {
          const name = directive.name.value.replace(/^cost__/, '');
          const args = directiveArguments(directive);
          if (name === 'cost' && typeof args.weight === 'number') cost.weight = args.weight;
          if (name === 'listSize') {
            if (typeof args.assumedSize === 'number') cost.assumedSize = args.assumedSize;
            if (Array.isArray(args.slicingArguments))
              cost.slicingArguments = args.slicingArguments as string[];
            if (Array.isArray(args.sizedFields)) cost.sizedFields = args.sizedFields as string[];
          }
        }
        if (Object.keys(cost).length > 0) fields.set(`${definition.name.value}.${field.name.value}`, cost);
      }
    }
    return new CostModel(fields);
  }

  get(typeName: string, fieldName: string): FieldCost | undefined {
    return this.fields.get(`${typeName}.${fieldName}`);
  }
}

function directiveArguments(directive: ConstDirectiveNode): Record<string, unknown> {
  const args: Record<string, unknown> = {};
  for (const arg of directive.arguments ?? []) args[arg.name.value] = valueFromASTUntyped(arg.value);
  return args;
}

function isListOutput(type: GraphQLOutputType): boolean {
  return isListType(isNonNullType(type) ? type.ofType : type);
}

class TooLarge extends Error {}

/**
 * Depth and estimated cost of an operation, after the IBM / GraphQL Foundation cost model that Apollo's
 * demand control follows. A field returning an object costs 1, a scalar or enum 0, unless `@cost` says
 * otherwise; a list multiplies its items' cost by its size: the value of its slicing argument (`first`,
 * `maxPoints`), else its `@listSize(assumedSize)`, else 10. With `sizedFields`, the size applies to those
 * child fields instead (connections: `edges` and `nodes`). Introspection fields are not counted.
 */
export function analyzeOperation(
  schema: GraphQLSchema,
  model: CostModel,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown>,
): { depth: number; cost: number } {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  let visits = 0;
  let maxDepth = 0;

  function listSize(
    field: GraphQLField<unknown, unknown>,
    node: FieldNode,
    cost: FieldCost | undefined,
  ): number {
    const slicing = cost?.slicingArguments ?? [];
    if (slicing.length > 0) {
      try {
        const values = getArgumentValues(field, node, variables);
        const sizes = slicing
          .map((name) => values[name])
          .filter((value): value is number => typeof value === 'number');
        if (sizes.length > 0) return Math.max(0, ...sizes);
      } catch {
        // invalid arguments are reported by execution; fall back to the assumed size
      }
    }
    return cost?.assumedSize ?? DEFAULT_LIST_SIZE;
  }

  /** Cost of a selection set; `sized` multiplies the named child fields (a parent's `sizedFields`). */
  function selectionCost(
    selectionSet: SelectionSetNode,
    parentType: GraphQLNamedType,
    depth: number,
    sized: { fields: string[]; size: number } | undefined,
  ): number {
    let total = 0;
    for (const selection of selectionSet.selections) {
      if (++visits > MAX_VISITS) throw new TooLarge();
      if (selection.kind === Kind.FRAGMENT_SPREAD) {
        const fragment = fragments.get(selection.name.value);
        if (!fragment) continue;
        const type = schema.getType(fragment.typeCondition.name.value) ?? parentType;
        total += selectionCost(fragment.selectionSet, type, depth, sized);
        continue;
      }
      if (selection.kind === Kind.INLINE_FRAGMENT) {
        const type = selection.typeCondition
          ? (schema.getType(selection.typeCondition.name.value) ?? parentType)
          : parentType;
        total += selectionCost(selection.selectionSet, type, depth, sized);
        continue;
      }
      const name = selection.name.value;
      if (name.startsWith('__')) continue;
      if (!isObjectType(parentType) && !isInterfaceType(parentType)) continue;
      const field = parentType.getFields()[name];
      if (!field) continue;
      maxDepth = Math.max(maxDepth, depth);
      const namedType = getNamedType(field.type);
      const cost = model.get(parentType.name, name);
      const weight = cost?.weight ?? (isCompositeType(namedType) ? 1 : 0);
      let size = 1;
      let childSized: { fields: string[]; size: number } | undefined;
      if (cost?.sizedFields && cost.sizedFields.length > 0) {
        childSized = { fields: cost.sizedFields, size: listSize(field, selection, cost) };
      } else if (sized?.fields.includes(name)) {
        size = sized.size;
      } else if (isListOutput(field.type)) {
        size = listSize(field, selection, cost);
      }
      const children = selection.selectionSet
        ? selectionCost(selection.selectionSet, namedType, depth + 1, childSized)
        : 0;
      total += size * (weight + children);
    }
    return total;
  }

  const root =
    operation.operation === 'mutation'
      ? schema.getMutationType()
      : operation.operation === 'subscription'
        ? schema.getSubscriptionType()
        : schema.getQueryType();
  if (!root) return { depth: 0, cost: 0 };
  try {
    const cost = selectionCost(operation.selectionSet, root, 1, undefined);
    return { depth: maxDepth, cost };
  } catch (error) {
    if (error instanceof TooLarge) return { depth: maxDepth, cost: Number.POSITIVE_INFINITY };
    throw error;
  }
}

function limitError(code: string, message: string, extra: Record<string, unknown>): GraphQLError {
  return new GraphQLError(message, { extensions: { code, ...extra, http: { status: 400 } } });
}

/**
 * Rejects operations deeper or costlier than the limits before they are planned or executed: a 400 with
 * `extensions.code` `MAX_DEPTH_EXCEEDED` or `MAX_COST_EXCEEDED` and the measured and allowed values. The
 * cost model is read from the supergraph whenever the gateway loads one.
 */
export function operationLimitsPlugin(limits: OperationLimits): ApolloServerPlugin<BaseContext> {
  let model = new CostModel();
  return {
    async serverWillStart() {
      return {
        schemaDidLoadOrUpdate({ coreSupergraphSdl }) {
          if (coreSupergraphSdl) model = CostModel.fromSupergraph(coreSupergraphSdl);
        },
      };
    },
    async requestDidStart() {
      return {
        async didResolveOperation({ schema, document, operation, request }) {
          if (!operation) return;
          const { depth, cost } = analyzeOperation(
            schema,
            model,
            document,
            operation,
            request.variables ?? {},
          );
          if (depth > limits.maxDepth) {
            throw limitError(
              'MAX_DEPTH_EXCEEDED',
              `The operation is nested ${depth} levels deep; the limit is ${limits.maxDepth}.`,
              { depth, maxDepth: limits.maxDepth },
            );
          }
          if (cost > limits.maxCost) {
            throw limitError(
              'MAX_COST_EXCEEDED',
              Number.isFinite(cost)
                ? `The operation's estimated cost is ${cost}; the limit is ${limits.maxCost}. Ask for smaller pages (first), fewer points (maxPoints) or fewer fields.`
                : `The operation selects too many fields to estimate its cost; the limit is ${limits.maxCost}.`,
              { cost: Number.isFinite(cost) ? cost : null, maxCost: limits.maxCost },
            );
          }
        },
      };
    },
  };
}
