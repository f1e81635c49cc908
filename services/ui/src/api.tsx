import { useCallback, useEffect, useState } from 'react';

/** A GraphQL error as the gateway reports it: the message and `extensions.code` (MLflow's error code). */
export class GraphQLRequestError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
    this.name = 'GraphQLRequestError';
  }
}

/** The gateway's GraphQL endpoint, relative to the document's `<base href>` (the static prefix). */
function graphqlUrl(): string {
  return new URL('graphql', document.baseURI).toString();
}

/**
 * Runs one GraphQL operation (POST JSON to `/graphql`) and returns its `data`; the first error of the
 * response, or a transport failure, is thrown as a `GraphQLRequestError`.
 */
export async function gql<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  let response: Response;
  try {
    response = await fetch(graphqlUrl(), {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ query, variables }),
    });
  } catch (error) {
    throw new GraphQLRequestError(`The server is unreachable (${(error as Error).message}).`, 'UNREACHABLE');
  }
  let body: { data?: T; errors?: Array<{ message: string; extensions?: { code?: string } }> };
  try {
    body = await response.json();
  } catch {
    throw new GraphQLRequestError(`The server answered ${response.status} without JSON.`, undefined);
  }
  const first = body.errors?.[0];
  if (first) throw new GraphQLRequestError(first.message, first.extensions?.code);
  if (body.data === undefined) throw new GraphQLRequestError(`Empty answer (${response.status}).`, undefined);
  return body.data;
}

interface QueryState<T> {
  data: T | undefined;
  error: GraphQLRequestError | undefined;
  loading: boolean;
  /** Runs the query again (after a mutation). */
  reload(): void;
}

/** Runs `query` whenever it or its variables change; a stale answer never replaces a newer one. */
export function useQuery<T>(
  query: string,
  variables: Record<string, unknown> = {},
  skip = false,
): QueryState<T> {
  const [generation, setGeneration] = useState(0);
  // The variables and the reload count: a new key runs the query again.
  const key = JSON.stringify([variables, generation]);
  const [state, setState] = useState<{ data?: T; error?: GraphQLRequestError; loading: boolean }>({
    loading: !skip,
  });
  useEffect(() => {
    if (skip) return;
    let current = true;
    setState((previous) => ({ ...previous, loading: true }));
    gql<T>(query, JSON.parse(key)[0])
      .then((data) => current && setState({ data, loading: false }))
      .catch((error: GraphQLRequestError) => current && setState({ error, loading: false }));
    return () => {
      current = false;
    };
  }, [query, key, skip]);
  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  return { data: state.data, error: state.error, loading: state.loading, reload };
}
