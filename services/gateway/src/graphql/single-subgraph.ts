import { ApolloGateway } from '@apollo/gateway';
import {
  type ConstDirectiveNode,
  type DocumentNode,
  type ExecutionResult,
  execute,
  type FieldNode,
  type FragmentDefinitionNode,
  GraphQLError,
  type GraphQLNamedType,
  type GraphQLSchema,
  getNamedType,
  getVariableValues,
  isInterfaceType,
  isObjectType,
  Kind,
  type OperationDefinitionNode,
  parse,
  type SelectionSetNode,
  specifiedRules,
  validate,
  valueFromASTUntyped,
} from 'graphql';

/**
 * Which subgraphs can resolve each field of the supergraph (`Type.field` → subgraph names), read from
 * the `@join__type` / `@join__field` directives composition writes.
 */
export class FieldOwners {
  constructor(private readonly owners: Map<string, ReadonlySet<string>>) {}

  static fromSupergraph(supergraphSdl: string): FieldOwners {
    const document = parse(supergraphSdl);
    const graphNames = new Map<string, string>();
    for (const definition of document.definitions) {
      if (definition.kind === Kind.ENUM_TYPE_DEFINITION && definition.name.value === 'join__Graph') {
        for (const value of definition.values ?? []) {
          const name = argument(
            value.directives?.find((d) => d.name.value === 'join__graph'),
            'name',
          );
          if (typeof name === 'string') graphNames.set(value.name.value, name);
        }
      }
    }
    const owners = new Map<string, ReadonlySet<string>>();
    for (const definition of document.definitions) {
      if (
        definition.kind !== Kind.OBJECT_TYPE_DEFINITION &&
        definition.kind !== Kind.INTERFACE_TYPE_DEFINITION
      ) {
        continue;
      }
      const typeGraphs = new Set<string>();
      for (const directive of definition.directives ?? []) {
        if (directive.name.value !== 'join__type') continue;
        const graph = graphNames.get(String(argument(directive, 'graph')));
        if (graph) typeGraphs.add(graph);
      }
      for (const field of definition.fields ?? []) {
        const joins = (field.directives ?? []).filter((d) => d.name.value === 'join__field');
        const graphs = new Set<string>();
        if (joins.length === 0) {
          for (const graph of typeGraphs) graphs.add(graph);
        }
        for (const join of joins) {
          const graph = graphNames.get(String(argument(join, 'graph')));
          // External or overridden: declared there, resolved elsewhere. No graph: not plain ownership.
          if (!graph || argument(join, 'external') === true || argument(join, 'usedOverridden') === true)
            continue;
          if (argument(join, 'requires') !== undefined) continue;
          graphs.add(graph);
        }
        owners.set(`${definition.name.value}.${field.name.value}`, graphs);
      }
    }
    return new FieldOwners(owners);
  }

  get(typeName: string, fieldName: string): ReadonlySet<string> | undefined {
    return this.owners.get(`${typeName}.${fieldName}`);
  }
}

function argument(directive: ConstDirectiveNode | undefined, name: string): unknown {
  const arg = directive?.arguments?.find((a) => a.name.value === name);
  return arg ? valueFromASTUntyped(arg.value) : undefined;
}

/**
 * The one candidate subgraph that can resolve every field an operation selects, or undefined (then the
 * query planner spreads the operation over several subgraphs). Introspection is left to the gateway.
 */
export function soleOwner(
  schema: GraphQLSchema,
  owners: FieldOwners,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  candidates: readonly string[],
): string | undefined {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  let remaining = new Set(candidates);
  const visited = new Set<string>();

  function walk(selectionSet: SelectionSetNode, parentType: GraphQLNamedType): boolean {
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FRAGMENT_SPREAD) {
        const fragment = fragments.get(selection.name.value);
        if (!fragment) return false;
        const key = `${fragment.name.value}:${parentType.name}`;
        if (visited.has(key)) continue;
        visited.add(key);
        const type = schema.getType(fragment.typeCondition.name.value);
        if (!type || !walk(fragment.selectionSet, type)) return false;
        continue;
      }
      if (selection.kind === Kind.INLINE_FRAGMENT) {
        const type = selection.typeCondition
          ? schema.getType(selection.typeCondition.name.value)
          : parentType;
        if (!type || !walk(selection.selectionSet, type)) return false;
        continue;
      }
      if (!field(selection, parentType)) return false;
    }
    return true;
  }

  function field(node: FieldNode, parentType: GraphQLNamedType): boolean {
    const name = node.name.value;
    if (name === '__typename') return true;
    if (name.startsWith('__')) return false;
    if (!isObjectType(parentType) && !isInterfaceType(parentType)) return false;
    const definition = parentType.getFields()[name];
    const graphs = owners.get(parentType.name, name);
    if (!definition || !graphs) return false;
    remaining = new Set([...remaining].filter((graph) => graphs.has(graph)));
    if (remaining.size === 0) return false;
    return node.selectionSet ? walk(node.selectionSet, getNamedType(definition.type)) : true;
  }

  const root =
    operation.operation === 'query'
      ? schema.getQueryType()
      : operation.operation === 'mutation'
        ? schema.getMutationType()
        : undefined;
  if (!root || !walk(operation.selectionSet, root)) return undefined;
  return [...remaining][0];
}

/** A subgraph error as the gateway reports one: with the subgraph's name, without locations. */
function withService(error: GraphQLError, serviceName: string): GraphQLError {
  return new GraphQLError(error.message, {
    path: error.path,
    originalError: error.originalError,
    extensions: { ...error.extensions, serviceName },
  });
}

type Loaded = Awaited<ReturnType<ApolloGateway['load']>>;
type Executor = Loaded['executor'];
type ExecutorContext = Parameters<Executor>[0];
type GatewayConfig = ConstructorParameters<typeof ApolloGateway>[0];

/**
 * The all-in-one gateway. An operation whose every field one in-process subgraph resolves is executed
 * directly against that subgraph's schema, with the request's context, skipping query planning and the
 * gateway's re-shaping of the result (a quarter of a dashboard query's CPU). The answer is the one the
 * planner gives (a test compares them); operations spanning subgraphs, introspection, and documents a
 * subgraph would reject (e.g. a literal its scalar refuses) go through the query planner.
 */
export class InProcessGateway extends ApolloGateway {
  private readonly owners: FieldOwners;
  private readonly candidates: string[];
  private decisions = new WeakMap<DocumentNode, Map<string, string | null>>();

  constructor(
    config: GatewayConfig & { supergraphSdl: string },
    private readonly subgraphs: ReadonlyMap<string, GraphQLSchema>,
    private readonly shortcut = true,
  ) {
    super(config);
    this.owners = FieldOwners.fromSupergraph(config.supergraphSdl);
    this.candidates = [...subgraphs.keys()];
  }

  override async load(options?: Parameters<ApolloGateway['load']>[0]): Promise<Loaded> {
    const loaded = await super.load(options);
    if (!this.shortcut) return loaded;
    const planned = loaded.executor;
    return { ...loaded, executor: (context) => this.executeDirectly(context) ?? planned(context) };
  }

  private owner(context: ExecutorContext): string | undefined {
    const { document, operation, schema } = context;
    const key = operation.name?.value ?? '';
    let perOperation = this.decisions.get(document);
    if (!perOperation) {
      perOperation = new Map();
      this.decisions.set(document, perOperation);
    }
    let decision = perOperation.get(key);
    if (decision === undefined) {
      const owner = soleOwner(schema, this.owners, document, operation, this.candidates);
      const valid =
        owner !== undefined && validate(this.subgraphs.get(owner)!, document, specifiedRules).length === 0;
      decision = valid ? owner : null;
      perOperation.set(key, decision);
    }
    return decision ?? undefined;
  }

  private executeDirectly(context: ExecutorContext): ReturnType<Executor> | undefined {
    if (context.operation.operation === 'subscription') return undefined;
    const owner = this.owner(context);
    if (owner === undefined) return undefined;
    const schema = this.subgraphs.get(owner)!;
    // Variables the subgraph's scalars reject: the planner reports those per field, as it should here.
    const variables = getVariableValues(
      schema,
      context.operation.variableDefinitions ?? [],
      context.request.variables ?? {},
    );
    if (variables.errors) return undefined;
    return Promise.resolve(
      execute({
        schema,
        document: context.document,
        operationName: context.request.operationName,
        variableValues: context.request.variables,
        contextValue: context.context,
      }),
    ).then((result: ExecutionResult) =>
      result.errors ? { ...result, errors: result.errors.map((error) => withService(error, owner)) } : result,
    );
  }
}
