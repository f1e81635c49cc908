import { type HttpClient, waitFor } from '@mast/test-support';

/**
 * The newest deployment of `model` version `version`, once it is in one of `states` (polled through
 * `…/mast/deployments/search` every 100 ms for up to `timeoutMs`).
 */
export async function deploymentOf(
  http: HttpClient,
  model: string,
  version: string,
  states: string[],
  timeoutMs = 120_000,
): Promise<any> {
  let found: any;
  await waitFor(
    async () => {
      const page = await http.get('/api/2.0/mast/deployments/search', { model_name: model, version });
      found = page.body.deployments?.[0];
      return found !== undefined && states.includes(found.state);
    },
    `${model} version ${version} in ${states.join('/')}`,
    { timeoutMs, intervalMs: 100 },
  );
  return found;
}
