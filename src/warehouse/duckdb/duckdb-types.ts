/** Logical column types <-> DuckDB SQL types. */
import type { ColumnType } from '../destination.js';
import type { ExistingColumn } from '../schema-evolution.js';

export function duckdbType(type: ColumnType): string {
  return type; // BOOLEAN, BIGINT, DOUBLE, VARCHAR and JSON are DuckDB type names as they are.
}

const NARROWER_INTEGERS = new Set(['TINYINT', 'SMALLINT', 'INTEGER', 'UTINYINT', 'USMALLINT', 'UINTEGER']);

/** How an existing DuckDB column (by `data_type` from duckdb_columns()) behaves logically. */
export function columnTypeOfDuckdb(dataType: string): Pick<ExistingColumn, 'type' | 'exact'> {
  const upper = dataType.toUpperCase();
  switch (upper) {
    case 'BOOLEAN':
    case 'BIGINT':
    case 'DOUBLE':
    case 'VARCHAR':
    case 'JSON':
      return { type: upper, exact: true };
    case 'FLOAT':
      return { type: 'DOUBLE', exact: false };
    default:
      // Anything else (HUGEINT, DECIMAL, TIMESTAMP, lists, ...) holds its values as text when new data
      // arrives for it, so nothing can fail to fit or lose digits.
      return NARROWER_INTEGERS.has(upper)
        ? { type: 'BIGINT', exact: false }
        : { type: 'VARCHAR', exact: false };
  }
}

/**
 * An SQL expression's text as TIMESTAMPTZ, or NULL when it is not a timestamp. As in PostgreSQL, only
 * text starting with a date is tried: DuckDB also reads `infinity`, `-infinity` and `epoch` as
 * timestamps, and an `infinity` would win every merge and make the window's max unreadable.
 */
export function safeTimestamp(expression: string): string {
  const text = `trim(CAST(${expression} AS VARCHAR))`;
  return `CASE WHEN regexp_matches(${text}, '^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}') THEN TRY_CAST(${text} AS TIMESTAMPTZ) END`;
}
