/**
 * DuckDB's worker threads for an ingesting database. One by default: a load's DuckDB work is a stream
 * of small appends and commits issued from one Node thread, and with more workers the binding's thread
 * polls the query until they finish, spinning on a mutex. Measured at 1,000,000 events into DuckDB on
 * 2 cores: 35.9 µs of CPU per event with 1 thread, 49.1 with 2 (and 27.7 vs 37.1 s of wall time).
 * `KLAVIYO_INGEST_DUCKDB_THREADS` sets another count (e.g. for large merges on a big machine).
 */
import { configError } from '../../util/errors.js';

export const THREADS_ENV = 'KLAVIYO_INGEST_DUCKDB_THREADS';
export const DEFAULT_THREADS = 1;

/** DuckDB's `threads` setting from the environment; a value that is not a positive integer is refused. */
export function duckdbThreadsFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const text = env[THREADS_ENV]?.trim();
  if (!text) return DEFAULT_THREADS;
  const threads = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(threads) || threads < 1) {
    throw configError(`${THREADS_ENV}=${JSON.stringify(text)} is not a number of threads`, {
      code: 'CONFIG_DUCKDB_THREADS',
      fix: `set ${THREADS_ENV} to a whole number of 1 or more (e.g. 4), or unset it for ${DEFAULT_THREADS}`,
    });
  }
  return threads;
}
