/**
 * One DuckDBInstance per database file per process (DuckDB must not attach the same file twice in
 * one process), shared by reference count. `:memory:` databases are never shared.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ingestionError } from '../../util/errors.js';
import { DUCKDB_ALLOCATOR_SETTINGS } from './duckdb-allocator.js';
import { DuckDBInstance } from './duckdb-api.js';
import { DuckDBMemoryCap, type MemoryPolicy, memoryPolicyFromEnv } from './duckdb-memory.js';
import { duckdbThreadsFromEnv } from './duckdb-threads.js';

export const MEMORY_PATH = ':memory:';

interface Opened {
  instance: DuckDBInstance;
  /** Null for `:memory:` databases, which are not capped. */
  memory: DuckDBMemoryCap | null;
}

interface Entry {
  opened: Promise<Opened>;
  refs: number;
}

const shared = new Map<string, Entry>();

export interface InstanceLease {
  readonly instance: DuckDBInstance;
  /** The instance's memory cap (shared by every lease of the file); null for `:memory:`. */
  readonly memory: DuckDBMemoryCap | null;
  /** The resolved path, or `:memory:`. */
  readonly path: string;
  release(): void;
}

/**
 * `policy` applies when this call opens the instance (default: from the environment); a file already
 * open in this process keeps the cap it was opened with.
 */
export async function acquireInstance(path: string, policy?: MemoryPolicy): Promise<InstanceLease> {
  if (path === MEMORY_PATH) {
    const { instance } = await createInstance(path, policy);
    let released = false;
    return {
      instance,
      memory: null,
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
    const created: Entry = { opened: createInstance(key, policy), refs: 0 };
    shared.set(key, created);
    created.opened.catch(() => shared.delete(key));
    entry = created;
  }
  entry.refs++;
  const current = entry;
  let opened: Opened;
  try {
    opened = await current.opened;
  } catch (error) {
    current.refs--;
    throw error;
  }
  const { instance, memory } = opened;
  let released = false;
  return {
    instance,
    memory,
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
 * The settings every DuckDB instance of a load opens with (DuckDB files and the Parquet writer): the
 * allocator's purge thread and the worker threads. Throws the config error of a bad override.
 */
export function ingestInstanceSettings(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  return { ...DUCKDB_ALLOCATOR_SETTINGS, threads: String(duckdbThreadsFromEnv(env)) };
}

async function createInstance(path: string, policy?: MemoryPolicy): Promise<Opened> {
  // In-memory databases have no file to spill next to: leave them unlimited (tests, dry runs).
  const memory = path === MEMORY_PATH ? null : new DuckDBMemoryCap(policy ?? memoryPolicyFromEnv());
  const settings = ingestInstanceSettings();
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
    const options = memory === null ? settings : { ...settings, memory_limit: `${memory.bytes}B` };
    return { instance: await DuckDBInstance.create(path, options), memory };
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
