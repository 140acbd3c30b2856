/** Logical column types <-> PostgreSQL SQL types. */
import type { ColumnType } from '../destination.js';
import type { ExistingColumn } from '../schema-evolution.js';

const PG_TYPES: Record<ColumnType, string> = {
  BOOLEAN: 'boolean',
  BIGINT: 'bigint',
  DOUBLE: 'double precision',
  VARCHAR: 'text',
  JSON: 'jsonb',
};

export function postgresType(type: ColumnType): string {
  return PG_TYPES[type];
}

const NARROWER_INTEGERS = new Set(['smallint', 'integer']);

/**
 * How an existing PostgreSQL column (by `format_type(atttypid, atttypmod)`) behaves logically. Only
 * the five types above are exact; any other type is converted to its logical type when new data
 * arrives for it, so values can never fail to fit (varchar(n), timestamps, numeric, ... become text).
 */
export function columnTypeOfPostgres(formatted: string): Pick<ExistingColumn, 'type' | 'exact'> {
  const type = formatted.toLowerCase();
  switch (type) {
    case 'boolean':
      return { type: 'BOOLEAN', exact: true };
    case 'bigint':
      return { type: 'BIGINT', exact: true };
    case 'double precision':
      return { type: 'DOUBLE', exact: true };
    case 'text':
      return { type: 'VARCHAR', exact: true };
    case 'jsonb':
      return { type: 'JSON', exact: true };
    case 'json':
      return { type: 'JSON', exact: false };
    case 'real':
      return { type: 'DOUBLE', exact: false };
    default:
      return NARROWER_INTEGERS.has(type)
        ? { type: 'BIGINT', exact: false }
        : { type: 'VARCHAR', exact: false };
  }
}
