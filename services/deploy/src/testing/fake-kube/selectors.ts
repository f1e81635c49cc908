/** Label and field selectors as the API server parses them (=, ==, !=, in, notin, exists, !exists). */
export type Matcher = (object: KubeObject) => boolean;

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    resourceVersion?: string;
    generation?: number;
    uid?: string;
    creationTimestamp?: string;
    deletionTimestamp?: string;
    managedFields?: unknown[];
    ownerReferences?: Array<{
      apiVersion: string;
      kind: string;
      name: string;
      uid?: string;
      controller?: boolean;
    }>;
  };
  spec?: any;
  status?: any;
  [key: string]: unknown;
}

/** Splits on commas outside parentheses (`a in (x,y),b`). */
function requirements(selector: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of selector) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(current.trim());
      current = '';
    } else current += ch;
  }
  if (current.trim() !== '') parts.push(current.trim());
  return parts;
}

/** A matcher for `labelSelector`; throws on syntax the fake does not understand (a 400 for the caller). */
export function labelMatcher(selector: string | null): Matcher {
  if (!selector) return () => true;
  const tests = requirements(selector).map((req): ((labels: Record<string, string>) => boolean) => {
    const set = /^([^\s!=]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(req);
    if (set) {
      const values = set[3].split(',').map((v) => v.trim());
      return set[2] === 'in'
        ? (l) => set[1] in l && values.includes(l[set[1]])
        : (l) => !(set[1] in l) || !values.includes(l[set[1]]);
    }
    const cmp = /^([^\s!=]+)\s*(==|=|!=)\s*(\S*)$/.exec(req);
    if (cmp) return cmp[2] === '!=' ? (l) => l[cmp[1]] !== cmp[3] : (l) => l[cmp[1]] === cmp[3];
    if (/^![^\s!=]+$/.test(req)) return (l) => !(req.slice(1) in l);
    if (/^[^\s!=()]+$/.test(req)) return (l) => req in l;
    throw new Error(`unable to parse requirement: ${req}`);
  });
  return (o) => tests.every((t) => t(o.metadata.labels ?? {}));
}

/** A matcher for `fieldSelector` over `metadata.name` and `metadata.namespace`. */
export function fieldMatcher(selector: string | null): Matcher {
  if (!selector) return () => true;
  const tests = requirements(selector).map((req): Matcher => {
    const cmp = /^(metadata\.name|metadata\.namespace)\s*(==|=|!=)\s*(\S*)$/.exec(req);
    if (!cmp) throw new Error(`field label not supported: ${req}`);
    const read = (o: KubeObject) => (cmp[1] === 'metadata.name' ? o.metadata.name : o.metadata.namespace);
    return cmp[2] === '!=' ? (o) => read(o) !== cmp[3] : (o) => read(o) === cmp[3];
  });
  return (o) => tests.every((t) => t(o));
}
