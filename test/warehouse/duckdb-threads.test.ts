import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { IngestError } from '../../src/util/errors.js';
import { acquireInstance } from '../../src/warehouse/duckdb/duckdb-instances.js';
import {
  DEFAULT_THREADS,
  duckdbThreadsFromEnv,
  THREADS_ENV,
} from '../../src/warehouse/duckdb/duckdb-threads.js';
import { cleanupTempDirs, tempDir } from '../support/temp-dirs.js';

const dir = tempDir('ki-threads-');
afterAll(cleanupTempDirs);

async function threadsOf(file: string): Promise<string> {
  const lease = await acquireInstance(join(dir, file));
  try {
    const connection = await lease.instance.connect();
    const reader = await connection.runAndReadAll("SELECT current_setting('threads')");
    connection.closeSync();
    return String(reader.getRows()[0]?.[0]);
  } finally {
    lease.release();
  }
}

describe('DuckDB worker threads of a load', () => {
  it('reads the count from the environment: one by default, a positive whole number otherwise', () => {
    expect(duckdbThreadsFromEnv({})).toBe(DEFAULT_THREADS);
    expect(DEFAULT_THREADS).toBe(1);
    expect(duckdbThreadsFromEnv({ [THREADS_ENV]: ' 4 ' })).toBe(4);
    for (const bad of ['0', '-2', '1.5', 'many', '4 threads']) {
      let error: unknown;
      try {
        duckdbThreadsFromEnv({ [THREADS_ENV]: bad });
      } catch (caught) {
        error = caught;
      }
      expect(error, bad).toBeInstanceOf(IngestError);
      expect((error as IngestError).code).toBe('CONFIG_DUCKDB_THREADS');
      expect((error as IngestError).message).toContain(THREADS_ENV);
      expect((error as IngestError).render()).toContain(`set ${THREADS_ENV} to a whole number`);
    }
  });

  it('opens database files with that many threads, and refuses a bad value before creating the file', async () => {
    const saved = process.env[THREADS_ENV];
    try {
      delete process.env[THREADS_ENV];
      expect(await threadsOf('default.duckdb')).toBe('1');
      process.env[THREADS_ENV] = '3';
      expect(await threadsOf('three.duckdb')).toBe('3');
      process.env[THREADS_ENV] = 'zero';
      await expect(acquireInstance(join(dir, 'bad', 'never.duckdb'))).rejects.toMatchObject({
        code: 'CONFIG_DUCKDB_THREADS',
      });
      expect(existsSync(join(dir, 'bad'))).toBe(false);
    } finally {
      if (saved === undefined) delete process.env[THREADS_ENV];
      else process.env[THREADS_ENV] = saved;
    }
  });
});
