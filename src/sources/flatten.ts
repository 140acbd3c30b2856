import { type Row, type RowValue, TIME_COLUMN } from '../records/row.js';
import type { Resource } from './types.js';

/**
 * One row per object: `id`, each top-level attribute as a column of its own name (nested
 * objects and arrays stay JSON), each to-one relationship as `<name>_id`. An attribute called `time`
 * is kept as `time_`, as TD's add_time filter renames a clashing column.
 */
export function flattenResource(record: Resource): Row {
  const row: Row = { id: record.id };
  for (const [key, value] of Object.entries(record.attributes ?? {})) {
    row[key === TIME_COLUMN ? 'time_' : key] = toRowValue(value);
  }
  for (const [name, relationship] of Object.entries(record.relationships ?? {})) {
    const data = relationship?.data;
    if (data && !Array.isArray(data)) row[`${relationshipColumnBase(name)}_id`] = data.id;
  }
  return row;
}

/** `campaign-messages` -> `campaign_messages`. */
function relationshipColumnBase(name: string): string {
  return name.replace(/-/g, '_');
}

function toRowValue(value: unknown): RowValue {
  if (value === undefined) return null;
  return value as RowValue;
}

/** Index `included[]` by `type:id` for relationship resolution. */
export function indexIncluded(included: readonly Resource[]): Map<string, Resource> {
  const map = new Map<string, Resource>();
  for (const resource of included) map.set(`${resource.type}:${resource.id}`, resource);
  return map;
}

/** The attributes of a to-one related resource found in `included`, prefixed (`profile_email`). */
export function relatedColumns(
  record: Resource,
  relationship: string,
  included: ReadonlyMap<string, Resource>,
  attributes: readonly string[],
): Row {
  const data = record.relationships?.[relationship]?.data;
  const out: Row = {};
  if (!data || Array.isArray(data)) return out;
  const related = included.get(`${data.type}:${data.id}`);
  const prefix = relationshipColumnBase(relationship);
  for (const attribute of attributes) {
    out[`${prefix}_${attribute}`] = toRowValue(related?.attributes?.[attribute] ?? null);
  }
  return out;
}
