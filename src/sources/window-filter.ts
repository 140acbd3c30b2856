import { COMPARATORS, datetime, type FilterExpression } from '../klaviyo/filter.js';
import { parseTimestamp } from '../util/timestamps.js';
import type { WindowField } from './stream.js';
import type { Resource, TimeWindow } from './types.js';

/** How one window becomes API filter terms plus the exact client-side cut. */
export interface WindowSelection {
  /** e.g. `greater-or-equal(datetime,2025-09-01T00:00:00Z)`. */
  terms: FilterExpression[];
  /** Both ends of the window are in the filter (exactly or widened): any sub-range can be asked for. */
  bounded: boolean;
  inWindow: (valueMs: number | null) => boolean;
  pastEnd: (valueMs: number | null) => boolean;
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
  const terms: FilterExpression[] = [];
  const { startMs, endMs } = window;
  const term = (operator: keyof typeof COMPARATORS, ms: number) =>
    COMPARATORS[operator](field.apiField, datetime(ms));
  let hasStart = false;
  let hasEnd = false;
  if (startMs !== null) {
    if (allowed.has('greater-or-equal')) terms.push(term('greater-or-equal', startMs));
    else if (allowed.has('greater-than')) terms.push(term('greater-than', startMs - 1000));
    hasStart = terms.length > 0;
  }
  if (endMs !== null) {
    if (allowed.has('less-than')) terms.push(term('less-than', endMs));
    else if (allowed.has('less-or-equal')) terms.push(term('less-or-equal', endMs));
    hasEnd = terms.length > (hasStart ? 1 : 0);
  }
  const inWindow = (value: number | null) =>
    value === null || ((startMs === null || value >= startMs) && (endMs === null || value < endMs));
  const pastEnd = (value: number | null) => endMs !== null && value !== null && value >= endMs;
  return { terms, bounded: hasStart && hasEnd, inWindow, pastEnd };
}
