/**
 * SQL identifiers. Names that come from configuration (schemas, tables) must be plain identifiers and
 * are rejected otherwise; column names come from Klaviyo attribute names and may contain anything
 * (`$value`, spaces, dots, quotes, unicode), so they are never rejected, only quoted.
 */
import { configError } from '../util/errors.js';

const PLAIN_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

function isPlainIdentifier(name: string): boolean {
  return PLAIN_IDENTIFIER.test(name);
}

/**
 * Checks a configuration-given schema or table name. `what` names it for the message,
 * e.g. `table name` or `schema (databases.src in config/database.yml)`.
 */
export function validateIdentifier(name: string, what: string): string {
  if (!isPlainIdentifier(name)) {
    throw configError(`invalid ${what} ${JSON.stringify(name)}`, {
      code: 'CONFIG_IDENTIFIER',
      fix: 'use 1 to 63 letters, digits and underscores, not starting with a digit',
    });
  }
  return name;
}

/** Double-quotes an identifier, doubling embedded double quotes. */
export function quoteIdentifier(name: string): string {
  if (name.length === 0 || name.includes('\u0000')) {
    // columnNameForKey() never produces these; anything else reaching here is a programming error.
    throw new Error(`cannot quote identifier ${JSON.stringify(name)}`);
  }
  return `"${name.replaceAll('"', '""')}"`;
}

/** `"schema"."table"`, both validated as configuration identifiers. */
export function qualifiedName(schema: string, table: string): string {
  return `${quoteIdentifier(validateIdentifier(schema, 'schema name'))}.${quoteIdentifier(
    validateIdentifier(table, 'table name'),
  )}`;
}

/**
 * The column name for a record key. Every key is accepted; only the two things no SQL database can
 * hold in an identifier are rewritten: the empty name becomes `_` and NUL characters become `_`.
 */
export function columnNameForKey(key: string): string {
  if (key.length === 0) return '_';
  return key.includes('\u0000') ? key.replaceAll('\u0000', '_') : key;
}

/**
 * How the databases compare identifiers: DuckDB matches column names case-insensitively (ASCII
 * letters only), even when quoted, so `Email` and `email` are the same column.
 */
export function foldIdentifier(name: string): string {
  return name.replace(/[A-Z]+/g, (letters) => letters.toLowerCase());
}

/** Checks the names of a load target taken from the project's config: schema, table, window column. */
export function validateLoadTarget(target: {
  schema: string;
  table: string;
  windowColumn: string | null;
}): void {
  validateIdentifier(target.schema, 'schema name');
  validateIdentifier(target.table, 'table name');
  if (target.windowColumn !== null) validateIdentifier(target.windowColumn, 'incremental field');
}
