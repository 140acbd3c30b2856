/**
 * Settings for the allocator bundled in DuckDB's Linux library (jemalloc), which reads them from the
 * environment once, when the library loads: `duckdb-api.ts` imports this module before DuckDB. Freed
 * pages go back to the system at once instead of being kept (and counted in RSS) for seconds; a
 * `DUCKDB_JE_MALLOC_CONF` the user set is left as it is. Measurements: docs/MEMORY.md.
 */
export const DUCKDB_ALLOCATOR_CONF = 'dirty_decay_ms:0,muzzy_decay_ms:0';

process.env.DUCKDB_JE_MALLOC_CONF ??= DUCKDB_ALLOCATOR_CONF;
