import type { RequestReader } from '@mast/common';
import { truncateParamValue, truncateRunTagValue, validateKey } from '../domain/validation.js';
import type { KeyValue } from '../store/run-store.js';

/** A param as runs and logged models take it: a valid key, the value truncated as MLflow does. */
export function readParam(reader: RequestReader): KeyValue {
  const key = reader.string('key', { required: true });
  validateKey('param', key, reader.path('key'));
  return { key, value: truncateParamValue(reader.stringOrEmpty('value') ?? '') };
}

export function readTag(reader: RequestReader): KeyValue {
  const key = reader.string('key', { required: true });
  validateKey('tag', key, reader.path('key'));
  return { key, value: truncateRunTagValue(reader.stringOrEmpty('value') ?? '') };
}
