/**
 * Staging tables are named `_ki_stage_<table>_<8 hex>`. Destinations keep them as TEMP tables of the
 * session's connection where they can (DuckDB: no WAL writes, about twice as fast to fill, and gone
 * with the process if it is killed).
 * Tables with this prefix found in a target schema (a persistent stage from an older version or an
 * interrupted tool) hold no committed data and are dropped by the next load of the same table, or by
 * cleanupStaleStages.
 */
import { randomBytes } from 'node:crypto';

export const STAGE_PREFIX = '_ki_stage_';
const STAGE_NAME = /^_ki_stage_(.+)_[0-9a-f]{8}$/;

export function newStageName(table: string): string {
  return `${STAGE_PREFIX}${table}_${randomBytes(4).toString('hex')}`;
}

/** The target table a staging table belongs to, or null when `name` is not a staging table name. */
export function stageTarget(name: string): string | null {
  return STAGE_NAME.exec(name)?.[1] ?? null;
}
