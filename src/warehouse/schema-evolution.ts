/**
 * Column types of records and how they widen. Pure: no SQL runs here.
 *
 * - string -> VARCHAR, boolean -> BOOLEAN, object/array -> JSON;
 * - an integer within int64 -> BIGINT, beyond it -> VARCHAR (kept exactly, as text);
 * - any other number (fractions, NaN, Infinity) -> DOUBLE;
 * - null/undefined carry no type information.
 *
 * Widening never drops data: BIGINT + DOUBLE -> DOUBLE; every other mix (with VARCHAR, BOOLEAN with a
 * number, JSON with a scalar) -> VARCHAR, where scalars are stored as their text and JSON as its text.
 * Timestamps are strings, so they stay VARCHAR, as in the templates' tables.
 */
import type { ColumnSpec, ColumnType } from './destination.js';

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
/** 2^63 as a double; doubles in [-2^63, 2^63) fit an int64. */
const TWO_POW_63 = 2 ** 63;

export function inferType(value: unknown): ColumnType | null {
  switch (typeof value) {
    case 'string':
      return 'VARCHAR';
    case 'boolean':
      return 'BOOLEAN';
    case 'number':
      if (!Number.isInteger(value)) return 'DOUBLE';
      return value >= -TWO_POW_63 && value < TWO_POW_63 ? 'BIGINT' : 'VARCHAR';
    case 'bigint':
      return value >= INT64_MIN && value <= INT64_MAX ? 'BIGINT' : 'VARCHAR';
    case 'object':
      return value === null ? null : 'JSON';
    default:
      return null;
  }
}

/** The narrowest type that holds values of both types without loss (null = no information yet). */
export function widenType(a: ColumnType | null, b: ColumnType | null): ColumnType | null {
  if (a === null) return b;
  if (b === null || a === b) return a;
  if ((a === 'BIGINT' && b === 'DOUBLE') || (a === 'DOUBLE' && b === 'BIGINT')) return 'DOUBLE';
  return 'VARCHAR';
}

/** A column as it exists in a table, mapped to the logical type it behaves as. */
export interface ExistingColumn {
  name: string;
  type: ColumnType;
  /**
   * False when the database type is not exactly the logical type's own SQL type (an INTEGER column
   * behaves as BIGINT, a TIMESTAMP column as VARCHAR): such a column is converted to the logical
   * type when new data arrives for it, so the data can never fail to fit.
   */
  exact: boolean;
}

export interface TableChanges {
  /** Columns to add, in arrival order. */
  add: ColumnSpec[];
  /** Existing columns (by their existing name) whose type changes to `type`. */
  alter: ColumnSpec[];
  /** For every incoming column: the table column (existing spelling) and its type after the changes. */
  resolved: Map<string, ColumnSpec>;
}

/**
 * What a table needs so that `incoming` columns fit: new columns are added, conflicting types are
 * widened. Names match as the database matches them (ASCII case-insensitively), see `fold`.
 * Incoming columns with no type (only nulls seen) are not added; when they exist they are left alone.
 */
export function planTableChanges(
  existing: readonly ExistingColumn[],
  incoming: readonly { name: string; type: ColumnType | null }[],
  fold: (name: string) => string,
): TableChanges {
  const byName = new Map(existing.map((column) => [fold(column.name), column]));
  const add: ColumnSpec[] = [];
  const alter: ColumnSpec[] = [];
  const resolved = new Map<string, ColumnSpec>();
  for (const column of incoming) {
    const current = byName.get(fold(column.name));
    if (current === undefined) {
      if (column.type === null) continue;
      const spec = { name: column.name, type: column.type };
      add.push(spec);
      resolved.set(column.name, spec);
      byName.set(fold(column.name), { ...spec, exact: true });
      continue;
    }
    const widened = widenType(current.type, column.type) ?? current.type;
    if (column.type !== null && (widened !== current.type || !current.exact)) {
      alter.push({ name: current.name, type: widened });
      byName.set(fold(column.name), { name: current.name, type: widened, exact: true });
    }
    resolved.set(column.name, { name: current.name, type: column.type === null ? current.type : widened });
  }
  return { add, alter, resolved };
}
