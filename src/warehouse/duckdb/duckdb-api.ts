/**
 * The only runtime import of `@duckdb/node-api` in src: it loads the DuckDB library after the allocator
 * settings are in the environment (ES modules evaluate their imports in order). Modules that need
 * DuckDB values import them from here; `import type` from the package directly is fine.
 */
import './duckdb-allocator.js';

export { DuckDBDataChunk, DuckDBInstance, LIST, listValue, VARCHAR } from '@duckdb/node-api';
// The C API itself, for the staging hot path (stage-chunk.ts); the same version node-api wraps.
export { default as duckdbBindings } from '@duckdb/node-bindings';
