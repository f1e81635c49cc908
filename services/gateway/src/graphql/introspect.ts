import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { redactSecrets, StartupError } from '@mast/common';
import { type DocumentNode, parse } from 'graphql';
import { CompositionError, composeSupergraph } from './supergraph.js';

/** How long one subgraph may take to answer its SDL before the attempt counts as failed. */
const ANSWER_TIMEOUT_MS = 5_000;

/** The first wait between attempts, doubled after each failure up to the last. */
const FIRST_RETRY_DELAY_MS = 1_000;
const MAX_RETRY_DELAY_MS = 10_000;

/** A subgraph that did not give its SDL; `transient` when waiting may fix it (down, starting, overloaded). */
class SubgraphFailure extends StartupError {
  constructor(
    subgraph: string,
    url: string,
    problem: string,
    readonly transient: boolean,
  ) {
    super(redactSecrets(`subgraph ${subgraph} at ${url} ${problem}`));
  }
}

/**
 * POSTs a JSON body with node:http(s), as the gateway's data sources (node-fetch) do at run time: a
 * URL's `user:password` is sent as Basic credentials, and no port is refused (fetch refuses some).
 */
function postJson(url: URL, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const request = send(
      url,
      { method: 'POST', headers: { 'content-type': 'application/json' }, timeout: ANSWER_TIMEOUT_MS },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          text += chunk;
        });
        response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
        response.on('error', reject);
      },
    );
    request.on('timeout', () => request.destroy(Object.assign(new Error('no answer'), { code: 'TIMEOUT' })));
    request.on('error', reject);
    request.end(body);
  });
}

/** A subgraph's SDL (`{ _service { sdl } }`), parsed, or a SubgraphFailure saying why not. */
async function subgraphTypeDefs(subgraph: string, url: string): Promise<DocumentNode> {
  const fail = (problem: string, transient: boolean) =>
    new SubgraphFailure(subgraph, url, problem, transient);
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    throw fail('is not a URL', false);
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') throw fail('is not an http(s) URL', false);
  let response: { status: number; text: string };
  try {
    response = await postJson(target, JSON.stringify({ query: '{ _service { sdl } }' }));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'TIMEOUT') throw fail(`did not answer within ${ANSWER_TIMEOUT_MS / 1000} s`, true);
    throw fail(`is unreachable (${code ?? (error as Error).message})`, true);
  }
  if (response.status < 200 || response.status >= 300) {
    // A proxy or a service still starting answers 502-504 (or 429): worth waiting for; 4xx is a wrong URL.
    const transient = response.status >= 500 || response.status === 429;
    throw fail(
      `answered HTTP ${response.status}${transient ? '' : ': not a subgraph endpoint (check MAST_SERVICE_URLS and MAST_SUBGRAPH_URLS)'}`,
      transient,
    );
  }
  let body: { data?: { _service?: { sdl?: unknown } }; errors?: Array<{ message?: string }> } | undefined;
  try {
    body = JSON.parse(response.text);
  } catch {
    body = undefined;
  }
  const sdl = body?.data?._service?.sdl;
  if (typeof sdl !== 'string') {
    const reason = body?.errors?.[0]?.message ?? 'no _service.sdl in the answer';
    throw fail(`is not a federation subgraph (${reason.split('\n')[0]})`, false);
  }
  try {
    return parse(sdl);
  } catch (error) {
    throw fail(`answered an SDL that does not parse (${(error as Error).message})`, false);
  }
}

/**
 * The supergraph composed from the subgraphs' own SDL, for `MAST_SUPERGRAPH=introspect`. Services of a
 * cluster start in any order, so while a subgraph is unreachable (or answers 5xx) this waits for it,
 * logging one line per attempt and retrying after 1 s, doubling to 10 s, until every subgraph answers.
 * What waiting cannot fix (a URL that is not a subgraph's, subgraphs that do not compose) is a
 * StartupError: one line, the process exits 1.
 */
export async function introspectSupergraph(
  subgraphUrls: Record<string, string>,
  log: (message: string) => void,
): Promise<string> {
  const subgraphs = Object.entries(subgraphUrls);
  let delay = FIRST_RETRY_DELAY_MS;
  for (let attempt = 1; ; attempt++) {
    const answers = await Promise.allSettled(subgraphs.map(([name, url]) => subgraphTypeDefs(name, url)));
    const failures = answers.flatMap((answer) =>
      answer.status === 'rejected' ? [answer.reason as SubgraphFailure] : [],
    );
    const final = failures.find((failure) => !failure.transient);
    if (final !== undefined) throw final;
    if (failures.length === 0) {
      return composeIntrospected(
        subgraphs.map(([name, url], i) => ({
          name,
          url,
          typeDefs: (answers[i] as PromiseFulfilledResult<DocumentNode>).value,
        })),
      );
    }
    log(
      `${failures.map((failure) => failure.message).join('; ')}; retrying in ${delay / 1000} s (attempt ${attempt})`,
    );
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, MAX_RETRY_DELAY_MS);
  }
}

function composeIntrospected(
  subgraphs: Array<{ name: string; url: string; typeDefs: DocumentNode }>,
): string {
  try {
    return composeSupergraph(subgraphs);
  } catch (error) {
    if (!(error instanceof CompositionError)) throw error;
    throw new StartupError(`the subgraphs do not compose: ${error.problems.join('; ')}`);
  }
}
