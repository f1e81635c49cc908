import { useCallback } from 'react';
import { useSearchParams } from 'react-router-dom';

/**
 * A page's state in its URL's search parameters (ui.md §5.1: the URL is the state, so it survives a
 * reload and can be shared). `set` merges: `undefined` or '' removes a parameter; it replaces the
 * history entry unless `push` is asked for.
 */
export function useUrlState(): {
  params: URLSearchParams;
  get(name: string, fallback?: string): string;
  list(name: string): string[];
  set(changes: Record<string, string | readonly string[] | undefined>, options?: { push?: boolean }): void;
} {
  const [params, setParams] = useSearchParams();
  const set = useCallback(
    (changes: Record<string, string | readonly string[] | undefined>, options: { push?: boolean } = {}) =>
      setParams(
        (previous) => {
          const next = new URLSearchParams(previous);
          for (const [name, value] of Object.entries(changes)) {
            const text = Array.isArray(value) ? value.join(',') : (value as string | undefined);
            if (text === undefined || text === '') next.delete(name);
            else next.set(name, text);
          }
          return next;
        },
        { replace: !options.push },
      ),
    [setParams],
  );
  return {
    params,
    get: (name, fallback = '') => params.get(name) ?? fallback,
    list: (name) => (params.get(name) ?? '').split(',').filter((item) => item !== ''),
    set,
  };
}
