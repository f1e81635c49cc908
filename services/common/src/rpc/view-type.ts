import type { ViewType } from '@mast/proto';
import type { RequestReader } from '../request.js';

export const VIEW_TYPES: readonly ViewType[] = ['ACTIVE_ONLY', 'DELETED_ONLY', 'ALL'];

/**
 * A `view_type` / `run_view_type` field: by name or number (1-3); absent or an unknown name (ignored,
 * as MLflow's parser ignores it) means `ACTIVE_ONLY`; an unknown number is INVALID_PARAMETER_VALUE.
 */
export function readViewType(reader: RequestReader, name: string): ViewType {
  return reader.enumValue(name, VIEW_TYPES) ?? 'ACTIVE_ONLY';
}

/** The lifecycle stages (`active`, `deleted`) a view type selects. */
export function lifecycleStages(viewType: ViewType): string[] {
  if (viewType === 'ACTIVE_ONLY') return ['active'];
  if (viewType === 'DELETED_ONLY') return ['deleted'];
  return ['active', 'deleted'];
}
