import { formatFilterTime, parseTimestamp } from '../util/timestamps.js';
import type { FilterOperator, WindowField } from './catalog.js';
import type { Resource, TimeWindow } from './types.js';

/** How one window becomes API filter terms plus the exact client-side cut. */
export interface WindowSelection {
  /** Filter expressions, e.g. `greater-or-equal(datetime,2025-09-01T00:00:00Z)`. */
  terms: string[];
  inWindow: (valueMs: number | null) => boolean;
  pastEnd: (valueMs: number | null) => boolean;
}

export function filterTerm(operator: FilterOperator, field: string, epochMs: number): string {
  return `${operator}(${field},${formatFilterTime(epochMs)})`;
}

/** The record's window-field value as epoch ms; null when missing or unparseable. */
export function windowValueMs(record: Resource, apiField: string): number | null {
  const value = record.attributes?.[apiField];
  if (typeof value === 'string') return parseTimestamp(value);
  if (typeof value === 'number') return value * 1000;
  return null;
}

/**
 * Start-inclusive, end-exclusive on every source. Where the API lacks `greater-or-equal` we ask for
 * `greater-than(start - 1s)`, and where it lacks `less-than` we ask for `less-or-equal(end)` or
 * nothing; `inWindow` then cuts exactly on our side. Records whose value cannot be read are kept
 * (dropping data silently is worse than one row outside the window).
 */
export function selectWindow(field: WindowField, window: TimeWindow): WindowSelection {
  const allowed = new Set(field.operators);
  const terms: string[] = [];
  const { startMs, endMs } = window;
  if (startMs !== null) {
    if (allowed.has('greater-or-equal')) terms.push(filterTerm('greater-or-equal', field.apiField, startMs));
    else if (allowed.has('greater-than'))
      terms.push(filterTerm('greater-than', field.apiField, startMs - 1000));
  }
  if (endMs !== null) {
    if (allowed.has('less-than')) terms.push(filterTerm('less-than', field.apiField, endMs));
    else if (allowed.has('less-or-equal')) terms.push(filterTerm('less-or-equal', field.apiField, endMs));
  }
  const inWindow = (value: number | null) =>
    value === null || ((startMs === null || value >= startMs) && (endMs === null || value < endMs));
  const pastEnd = (value: number | null) => endMs !== null && value !== null && value >= endMs;
  return { terms, inWindow, pastEnd };
}

/** Joins terms the way Klaviyo documents: one term as is, several inside `and(...)`. */
export function combineFilters(terms: readonly string[]): string | undefined {
  if (terms.length === 0) return undefined;
  return terms.length === 1 ? terms[0] : `and(${terms.join(',')})`;
}
