/**
 * A small typed builder for Klaviyo's filter syntax:
 * `and(greater-or-equal(datetime,2024-01-01T00:00:00Z),equals(metric_id,'abc'))`.
 *
 * - Datetimes (`Date` or `datetime(epochMs)`) go in unquoted, RFC 3339 with `Z`.
 * - Strings are single-quoted; `\` and `'` inside are escaped with a backslash.
 * - Booleans and numbers are unquoted.
 *
 * The result is plain text; `buildQuery` URI-encodes it (a `+` becomes `%2B`).
 */
import { formatFilterTime } from '../util/timestamps.js';

declare const filterBrand: unique symbol;
/** A filter expression, ready for the `filter` query parameter. */
export type FilterExpression = string & { readonly [filterBrand]: true };

/** A literal written as-is (no quoting); use sparingly. */
export interface RawLiteral {
  readonly raw: string;
}

export type FilterValue = string | number | boolean | Date | RawLiteral;

/** A datetime literal from epoch milliseconds. */
export function datetime(epochMs: number): RawLiteral {
  return { raw: formatFilterTime(epochMs) };
}

function quoteString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function formatFilterValue(value: FilterValue): string {
  if (typeof value === 'string') return quoteString(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`filter value ${value} is not a finite number`);
    return String(value);
  }
  if (value instanceof Date) {
    const ms = value.getTime();
    if (Number.isNaN(ms)) throw new TypeError('filter value is an invalid Date');
    return formatFilterTime(ms);
  }
  return value.raw;
}

const FIELD = /^[A-Za-z_$][A-Za-z0-9_$.-]*$/;

function checkField(field: string): string {
  if (!FIELD.test(field)) throw new TypeError(`'${field}' is not a valid filter field name`);
  return field;
}

function op(name: string, field: string, value: FilterValue): FilterExpression {
  return `${name}(${checkField(field)},${formatFilterValue(value)})` as FilterExpression;
}

export const equals = (field: string, value: FilterValue) => op('equals', field, value);
export const greaterOrEqual = (field: string, value: FilterValue) => op('greater-or-equal', field, value);
export const greaterThan = (field: string, value: FilterValue) => op('greater-than', field, value);
export const lessThan = (field: string, value: FilterValue) => op('less-than', field, value);
export const lessOrEqual = (field: string, value: FilterValue) => op('less-or-equal', field, value);

/** `any(field,['a','b'])` */
export function any(field: string, values: readonly FilterValue[]): FilterExpression {
  return `any(${checkField(field)},[${values.map(formatFilterValue).join(',')}])` as FilterExpression;
}

/** `has(field)` */
export function has(field: string): FilterExpression {
  return `has(${checkField(field)})` as FilterExpression;
}

/** `and(a,b,…)`; a single expression is returned unchanged, none is an error. */
export function and(...expressions: readonly FilterExpression[]): FilterExpression {
  if (expressions.length === 0) throw new TypeError('and() needs at least one expression');
  if (expressions.length === 1) return expressions[0] as FilterExpression;
  return `and(${expressions.join(',')})` as FilterExpression;
}

/** Comparison operator names as the catalog spells them, mapped to builders. */
export const COMPARATORS = {
  equals,
  'greater-or-equal': greaterOrEqual,
  'greater-than': greaterThan,
  'less-or-equal': lessOrEqual,
  'less-than': lessThan,
} as const satisfies Record<string, (field: string, value: FilterValue) => FilterExpression>;

/** The comparison operators a filterable field may allow. */
export type FilterOperator = keyof typeof COMPARATORS;
