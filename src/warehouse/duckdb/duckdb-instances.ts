/**
 * One DuckDBInstance per database file per process (DuckDB must not attach the same file twice in
 * one process), shared by reference count. `:memory:` databases are never shared.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ingestionError } from '../../util/errors.js';
import { DuckDBInstance } from './duckdb-api.js';

export const MEMORY_PATH = ':memory:';

interface Entry {
  instance: Promise<DuckDBInstance>;
  refs: number;
}

const shared = new Map<string, Entry>();

export interface InstanceLease {
  readonly instance: DuckDBInstance;
  /** The resolved path, or `:memory:`. */
  readonly path: string;
  release(): void;
}

export async function acquireInstance(path: string): Promise<InstanceLease> {
  if (path === MEMORY_PATH) {
    const instance = await createInstance(path);
    let released = false;
    return {
      instance,
      path,
      release: () => {
        if (!released) instance.closeSync();
        released = true;
      },
    };
  }
  const key = resolve(path);
  let entry = shared.get(key);
  if (entry === undefined) {
    const created: Entry = { instance: createInstance(key), refs: 0 };
    shared.set(key, created);
    created.instance.catch(() => shared.delete(key));
    entry = created;
  }
  entry.refs++;
  const current = entry;
  let instance: DuckDBInstance;
  try {
    instance = await current.instance;
  } catch (error) {
    current.refs--;
    throw error;
  }
  let released = false;
  return {
    instance,
    path: key,
    release: () => {
      if (released) return;
      released = true;
      current.refs--;
      if (current.refs === 0 && shared.get(key) === current) {
        shared.delete(key);
        instance.closeSync();
      }
    },
  };
}

/**
 * DuckDB's own memory cap (its buffer pool: staged TEMP rows, commit joins and sorts). Without one it
 * may use 80% of the machine's RAM, so a large window's staged rows stayed in memory and the process
 * grew with the window; with one, DuckDB spills to `<database>.tmp/` and peak RSS stays flat.
 * 64 MB, measured with the allocator setting (duckdb-allocator.ts): bench scenario 2 (1,000,000
 * events) at the same rows/s as before, peak RSS 282-288 MB (389-399 with 128 MB and DuckDB's decay).
 * 32 MB cut another ~25 MB but a 200,000-row single commit (replace, merge) ran out of memory.
 * `KLAVIYO_INGEST_DUCKDB_MEMORY_LIMIT` overrides it (e.g. `1GB`).
 */
export const DEFAULT_DUCKDB_MEMORY_LIMIT = '64MB';

function instanceOptions(path: string): Record<string, string> | undefined {
  // In-memory databases have no file to spill next to: leave them unlimited (tests, dry runs).
  if (path === MEMORY_PATH) return undefined;
  const limit = process.env.KLAVIYO_INGEST_DUCKDB_MEMORY_LIMIT?.trim() || DEFAULT_DUCKDB_MEMORY_LIMIT;
  return { memory_limit: limit };
}

async function createInstance(path: string): Promise<DuckDBInstance> {
  if (path !== MEMORY_PATH) {
    try {
      mkdirSync(dirname(path), { recursive: true });
    } catch (error) {
      throw ingestionError(`cannot create the folder for the database file ${path}`, {
        code: 'DESTINATION_OPEN',
        fix: 'check the --destination path and its permissions',
        cause: error,
      });
    }
  }
  try {
    return await DuckDBInstance.create(path, instanceOptions(path));
  } catch (error) {
    throw openError(path, error);
  }
}

function openError(path: string, error: unknown) {
  const detail = error instanceof Error ? error.message : String(error);
  if (/Could not set lock|Conflicting lock/i.test(detail)) {
    return ingestionError(
      `the database file ${path} is in use by another klaviyo-ingest run (or another program); wait for it to finish`,
      {
        code: 'DESTINATION_IN_USE',
        fix: 'wait for the other run to finish, or close the program holding the file, then run again',
        cause: error,
      },
    );
  }
  return ingestionError(`cannot open the DuckDB database file ${path}: ${detail}`, {
    code: 'DESTINATION_OPEN',
    fix: 'check the --destination path, its permissions, and that it is a DuckDB database file',
    cause: error,
  });
}
