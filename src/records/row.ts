/**
 * A record as it travels from a source to a destination: one flat row per Klaviyo object. Sources
 * produce rows, the runner stamps them, destinations store them; none of them owns the shape.
 */

import type { RawJson } from '../util/raw-json.js';

/**
 * A column value. Objects and arrays stay nested, or come as the API's JSON text (`RawJson`);
 * destinations store both as JSON.
 */
export type RowValue =
  | string
  | number
  | bigint
  | boolean
  | null
  | RawJson
  | RowValue[]
  | { [key: string]: RowValue };

export type Row = Record<string, RowValue>;

/** The column the runner stamps on every row (TD's add_time filter): the load's start, unix seconds. */
export const TIME_COLUMN = 'time';
