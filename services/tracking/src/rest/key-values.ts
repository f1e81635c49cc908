import type { RequestReader } from '@mast/common';
import type { TagInput } from '../service/index.js';

/** A `{key, value}` message (param or tag) as the services take it; the value may be empty. */
export function readKeyValue(reader: RequestReader): TagInput {
  return {
    key: reader.string('key', { required: true }),
    value: reader.stringOrEmpty('value') ?? '',
    path: reader.location,
  };
}
