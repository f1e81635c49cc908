/**
 * Polls `check` every `intervalMs` until it returns a truthy value (resolved with it) or `timeoutMs`
 * passes (rejects, naming `what`). Tests wait for asynchronous outcomes with it instead of sleeping.
 */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  what = 'condition',
  { timeoutMs = 10_000, intervalMs = 10 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** A promise with its resolve function outside, to hold a handler until a test releases it. */
export function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}
