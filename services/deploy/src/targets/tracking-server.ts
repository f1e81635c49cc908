/**
 * The tracking server's URL once it answers `/health`, polling every 200 ms for up to `timeoutMs`
 * (default 60 s): model files are downloaded from it, and the all-in-one server may not listen yet
 * when its workers resume deployments. `trackingUri` undefined (not known yet, or not configured)
 * ends in an error naming MAST_DEPLOY_TRACKING_URI.
 */
export async function waitForTrackingServer(
  trackingUri: () => string | undefined,
  signal: AbortSignal,
  timeoutMs = 60_000,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const uri = trackingUri();
    try {
      if (uri !== undefined) {
        const response = await fetch(`${uri}/health`, { signal: AbortSignal.timeout(2000) });
        if (response.ok) return uri;
      }
    } catch {
      // not listening yet
    }
    if (signal.aborted) throw new Error('shutting down');
    if (Date.now() > deadline) {
      throw new Error(
        uri === undefined
          ? 'no tracking server to download the model from: set MAST_DEPLOY_TRACKING_URI'
          : `the tracking server did not answer /health within ${Math.round(timeoutMs / 1000)} s`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
