import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { afterAll, describe, expect, it } from 'vitest';
import type { Row } from '../../src/records/row.js';
import { IngestError } from '../../src/util/errors.js';
import type { LoadTarget } from '../../src/warehouse/destination.js';
import { DuckDBInstance } from '../../src/warehouse/duckdb/duckdb-api.js';
import { openDuckDBDestination } from '../../src/warehouse/duckdb/duckdb-destination.js';
import {
  DEFAULT_MEMORY_LIMIT_BYTES,
  DuckDBMemoryCap,
  MEMORY_LIMIT_ENV,
  type MemoryPolicy,
  memoryPolicyFromEnv,
  parseMemorySize,
} from '../../src/warehouse/duckdb/duckdb-memory.js';
import { logRow } from '../support/destination.js';
import { cleanupTempDirs, tempDir } from '../support/temp-dirs.js';

const dir = tempDir('ki-warehouse-');
afterAll(cleanupTempDirs);
let n = 0;
const MB = 1_000_000;

async function memoryLimit(connection: DuckDBConnection): Promise<string> {
  const reader = await connection.runAndReadAll("SELECT current_setting('memory_limit')");
  return String(reader.getRows()[0]?.[0]);
}

describe('memory limit settings', () => {
  it('reads sizes the way DuckDB does', () => {
    expect(parseMemorySize('512MB')).toBe(512 * MB);
    expect(parseMemorySize(' 1.5GB ')).toBe(1_500 * MB);
    expect(parseMemorySize('64MiB')).toBe(64 * 2 ** 20);
    expect(parseMemorySize('4096')).toBe(4096);
    expect(parseMemorySize('lots')).toBeNull();
    expect(parseMemorySize('0MB')).toBeNull();
    expect(parseMemorySize('12XB')).toBeNull();
  });

  it('defaults to a raisable 64 MB; a limit the user sets is fixed; a bad one is a config error', () => {
    const auto = memoryPolicyFromEnv({});
    expect(auto).toMatchObject({ baseBytes: DEFAULT_MEMORY_LIMIT_BYTES, source: 'default' });
    expect(auto.maxBytes).toBeGreaterThan(auto.baseBytes);
    expect(memoryPolicyFromEnv({ [MEMORY_LIMIT_ENV]: '2GB' })).toEqual({
      baseBytes: 2_000 * MB,
      maxBytes: 2_000 * MB,
      source: 'env',
    });
    const error = (() => {
      try {
        memoryPolicyFromEnv({ [MEMORY_LIMIT_ENV]: 'lots' });
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(IngestError);
    expect(error).toMatchObject({ kind: 'config', code: 'CONFIG_MEMORY_LIMIT' });
    expect((error as IngestError).message).toContain(`${MEMORY_LIMIT_ENV}="lots"`);
    expect((error as IngestError).fix).toMatch(/512MB/);
  });

  it('a bad limit in the environment stops the destination from opening', async () => {
    const before = process.env[MEMORY_LIMIT_ENV];
    process.env[MEMORY_LIMIT_ENV] = 'a lot';
    try {
      await expect(openDuckDBDestination(join(dir, `env${n++}.duckdb`))).rejects.toMatchObject({
        code: 'CONFIG_MEMORY_LIMIT',
      });
    } finally {
      if (before === undefined) delete process.env[MEMORY_LIMIT_ENV];
      else process.env[MEMORY_LIMIT_ENV] = before;
    }
  });
});

describe('a commit that does not fit the cap', () => {
  /** A transaction that DuckDB cannot run in a few MB: numbering 200,000 rows per key. */
  async function numberedCopy(connection: DuckDBConnection, seen: string[]): Promise<number> {
    await connection.run('BEGIN TRANSACTION');
    try {
      seen.push(await memoryLimit(connection));
      const reader = await connection.runAndReadAll(
        'INSERT INTO copied SELECT k, row_number() OVER (PARTITION BY k, v ORDER BY i) FROM staged',
      );
      await connection.run('COMMIT');
      return Number(reader.getRows()[0]?.[0]);
    } catch (error) {
      await connection.run('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }

  async function withStaged<T>(
    policy: MemoryPolicy,
    use: (cap: DuckDBMemoryCap, c: DuckDBConnection) => Promise<T>,
  ) {
    const instance = await DuckDBInstance.create(join(dir, `cap${n++}.duckdb`), {
      memory_limit: `${policy.baseBytes}B`,
    });
    const connection = await instance.connect();
    try {
      await connection.run(
        "CREATE TEMP TABLE staged AS SELECT i, 'key_' || i AS k, 'value_' || (i % 977) AS v FROM range(200000) r(i)",
      );
      await connection.run('CREATE TABLE copied (k VARCHAR, n BIGINT)');
      return await use(new DuckDBMemoryCap(policy), connection);
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
  }

  it('is rolled back and run again with the cap doubled until it fits; then the cap is back', async () => {
    const seen: string[] = [];
    await withStaged({ baseBytes: 4 * MB, maxBytes: 1_000 * MB, source: 'default' }, async (cap, c) => {
      expect(await cap.withRoom(c, 'copy', () => numberedCopy(c, seen))).toBe(200_000);
      expect(seen.length).toBeGreaterThan(1); // it did not fit at first
      const mib = seen.map((text) => Number.parseFloat(text));
      for (let i = 1; i < mib.length; i++) expect(mib[i]).toBeCloseTo(mib[i - 1]! * 2, 0);
      expect(await memoryLimit(c)).toBe(seen[0]);
      expect(cap.bytes).toBe(4 * MB);
      const [[count]] = (await c.runAndReadAll('SELECT count(*) FROM copied')).getRows() as [[bigint]];
      expect(count).toBe(200_000n); // the failed attempts left nothing behind
    });
  });

  it('stops at the maximum with an error that says what to do', async () => {
    const seen: string[] = [];
    const policy: MemoryPolicy = { baseBytes: 4 * MB, maxBytes: 4 * MB, source: 'env' };
    await withStaged(policy, async (cap, c) => {
      const error = await cap.withRoom(c, 'copying', () => numberedCopy(c, seen)).catch((e: unknown) => e);
      expect(error).toMatchObject({ kind: 'ingestion', code: 'DESTINATION_OUT_OF_MEMORY' });
      expect((error as IngestError).message).toMatch(
        /^copying: DuckDB ran out of memory at its memory limit of 4 MiB/,
      );
      expect((error as IngestError).fix).toContain(`raise ${MEMORY_LIMIT_ENV}`);
      expect(seen).toHaveLength(1); // a fixed cap is never raised
      const [[count]] = (await c.runAndReadAll('SELECT count(*) FROM copied')).getRows() as [[bigint]];
      expect(count).toBe(0n);
    });
  });
});

describe('a load session over the cap', () => {
  const target: LoadTarget = { schema: 'src', table: 'events', mode: 'append', windowColumn: 'datetime' };
  const rows = (count: number): Row[] =>
    Array.from({ length: count }, (_, i) => ({
      id: `evt_${i}`,
      datetime: `2025-09-03T10:${String(Math.floor(i / 60) % 60).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}+00:00`,
      value: i,
      time: 1,
    }));

  async function load(policy: MemoryPolicy, count: number) {
    let attempts = 0;
    const dest = await openDuckDBDestination(join(dir, `session${n++}.duckdb`), {
      memory: policy,
      hooks: { beforeCommitStep: (step) => void (step === 'schema' && attempts++) },
    });
    try {
      await dest.ensureSchema('src');
      const session = await dest.openLoad(target);
      const all = rows(count);
      for (let offset = 0; offset < count; offset += 5_000)
        await session.write(all.slice(offset, offset + 5_000));
      const result = await session.commit([logRow({ table_name: 'events', records_processed: count })]);
      return { result, attempts, dest };
    } catch (error) {
      return { error, attempts, dest };
    }
  }

  it('commits a single large commit by raising the cap for it', async () => {
    const { result, attempts, dest } = await load(
      { baseBytes: 16 * MB, maxBytes: 1_000 * MB, source: 'default' },
      200_000,
    );
    try {
      expect(result).toEqual({ inserted: 200_000, duplicatesSkipped: 0 });
      expect(attempts).toBeGreaterThan(1);
      expect(dest.memory?.bytes).toBe(16 * MB);
      expect(await dest.query("SELECT current_setting('memory_limit') AS limit")).toEqual([
        { limit: '15.2 MiB' },
      ]);
      expect(await dest.query('SELECT count(*)::INT AS n FROM src.ingestion_log')).toEqual([{ n: 1 }]);
    } finally {
      await dest.close();
    }
  });

  it('with a fixed cap, fails clearly and leaves the table and the log unchanged', async () => {
    const { error, attempts, dest } = await load(
      { baseBytes: 16 * MB, maxBytes: 16 * MB, source: 'env' },
      200_000,
    );
    try {
      expect(error).toMatchObject({ code: 'DESTINATION_OUT_OF_MEMORY' });
      expect((error as IngestError).message).toMatch(
        /^src\.events: the commit of 200000 staged rows was rolled back; the table and ingestion_log are unchanged: DuckDB ran out of memory/,
      );
      expect(attempts).toBe(1);
      expect(await dest.tableColumns('src', 'events')).toBeNull();
      expect(await dest.tableColumns('src', 'ingestion_log')).toBeNull();
    } finally {
      await dest.close();
    }
  });

  it("staging that runs out of memory says which setting to raise, without DuckDB's own advice", async () => {
    const { error, dest } = await load({ baseBytes: 4 * MB, maxBytes: 4 * MB, source: 'env' }, 40_000);
    try {
      expect(error).toMatchObject({ code: 'DESTINATION_OUT_OF_MEMORY' });
      expect((error as IngestError).message).toMatch(
        /^src\.events: staging rows failed: .*(allocate|pin) (block|data)/,
      );
      expect((error as IngestError).message).not.toMatch(/Possible solutions|SET threads/);
      expect((error as IngestError).fix).toBe(
        `raise ${MEMORY_LIMIT_ENV} (now 4 MiB), or unset it to let klaviyo-ingest raise the limit when a commit needs it`,
      );
      expect(await dest.tableColumns('src', 'events')).toBeNull();
    } finally {
      await dest.close();
    }
  });
});
