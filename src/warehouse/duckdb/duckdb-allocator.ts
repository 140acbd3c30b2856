/**
 * Settings for the allocator bundled in DuckDB's Linux library (jemalloc), which reads them from the
 * environment once, when the library loads: `duckdb-api.ts` imports this module before DuckDB. Freed
 * pages go back to the system within a second instead of being kept (and counted in RSS) for 5 s and
 * then lazily, and one arena serves all threads. A shorter decay costs CPU: every page given back is
 * an madvise, a TLB shootdown and, when DuckDB allocates again, a page fault the kernel zeroes (decay
 * 0 halved the rows per CPU-second; 100 ms cost ~5 µs per event more than 1 s, which holds ~20 MB
 * more at 5,000,000 events). A `DUCKDB_JE_MALLOC_CONF` the user set is left as it is. Measurements:
 * docs/MEMORY.md.
 */
export const DUCKDB_ALLOCATOR_CONF = 'dirty_decay_ms:1000,muzzy_decay_ms:0,narenas:1';

process.env.DUCKDB_JE_MALLOC_CONF ??= DUCKDB_ALLOCATOR_CONF;

/**
 * Instance settings that go with it: a thread of DuckDB's gives the freed pages back on the decay
 * above also while the load waits on the network; without it they stay until DuckDB allocates again.
 */
export const DUCKDB_ALLOCATOR_SETTINGS: Readonly<Record<string, string>> = {
  allocator_background_threads: 'true',
};
