/**
 * Staging tables live next to their target: `<schema>._ki_stage_<table>_<8 hex>`. A process killed
 * mid-load leaves one behind; it holds no committed data and is dropped by the next load of the same
 * table (or by cleanupStaleStages).
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
