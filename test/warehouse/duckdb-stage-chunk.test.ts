/**
 * The staging hot path (stage-chunk.ts) against a real DuckDB: every logical type, NULLs in every
 * position of a chunk, integers at the edges of their halves and of int64, and more rows than a chunk.
 */

import type { DuckDBConnection } from '@duckdb/node-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Row } from '../../src/records/row.js';
import type { ColumnType } from '../../src/warehouse/destination.js';
import { DuckDBInstance } from '../../src/warehouse/duckdb/duckdb-api.js';
import { DuckDBStaging } from '../../src/warehouse/duckdb/duckdb-staging.js';
import type { StageColumn } from '../../src/warehouse/stage-schema.js';

function column(key: string, index: number, type: ColumnType | null, inherited = false): StageColumn {
  return { key, name: key, stageName: `c${index}`, type, inherited };
}

describe('DuckDB staging chunks', () => {
  let instance: DuckDBInstance;
  let connection: DuckDBConnection;
  let staging: DuckDBStaging;

  beforeEach(async () => {
    instance = await DuckDBInstance.create(':memory:');
    connection = await instance.connect();
    staging = new DuckDBStaging(connection, 'stage_test');
    await staging.createStage();
  });

  afterEach(() => {
    connection.closeSync();
    instance.closeSync();
  });

  /** Stages `rows`; returns the stage's rows in order, each value as DuckDB's text of it (or typed). */
  async function stage(
    columns: StageColumn[],
    rows: Row[],
    firstSeq = 0,
    asText = true,
  ): Promise<unknown[][]> {
    await staging.evolveStage({ added: columns, retyped: [] });
    await staging.stageRows(rows, columns, firstSeq);
    const names = columns.map((c) => (asText ? `CAST(${c.stageName} AS VARCHAR)` : c.stageName)).join(', ');
    const result = await connection.runAndReadAll(
      `SELECT ki_seq, ${names} FROM temp.main.stage_test ORDER BY ki_seq`,
    );
    return result.getRows();
  }

  it('writes each logical type as the value it was, and NULL for null, undefined and a missing key', async () => {
    const columns = [
      column('text', 0, 'VARCHAR'),
      column('count', 1, 'BIGINT'),
      column('ratio', 2, 'DOUBLE'),
      column('flag', 3, 'BOOLEAN'),
      column('props', 4, 'JSON'),
      column('nothing', 5, null),
    ];
    const rows: Row[] = [
      { text: 'héllo 🌸', count: 42, ratio: 1.5, flag: true, props: { a: [1, 'x'] }, nothing: null },
      { text: 7, count: 12345678901234n, ratio: 3, flag: false, props: 'plain' },
      { text: { nested: true }, count: null, ratio: null, flag: null, props: null },
      { text: true, count: -1, ratio: -0.25, flag: true, props: [1, 2n] },
    ];
    expect(await stage(columns, rows, 100)).toEqual([
      [100, 'héllo 🌸', '42', '1.5', 'true', '{"a":[1,"x"]}', null],
      [101, '7', '12345678901234', '3.0', 'false', '"plain"', null],
      [102, '{"nested":true}', null, null, null, null, null],
      [103, 'true', '-1', '-0.25', 'true', '[1,2]', null],
    ]);
  });

  it('writes integers exactly across the 32-bit halves and up to the ends of int64', async () => {
    const values = [
      0,
      1,
      -1,
      2 ** 31 - 1,
      2 ** 31,
      -(2 ** 31),
      -(2 ** 31) - 1,
      2 ** 32 - 1,
      2 ** 32,
      -(2 ** 32),
      -(2 ** 32) - 1,
      1767225677,
      Number.MAX_SAFE_INTEGER,
      -Number.MAX_SAFE_INTEGER,
      2 ** 53,
      -(2 ** 62),
      2n ** 63n - 1n,
      -(2n ** 63n),
    ];
    const rows = values.map((value) => ({ n: value }));
    const out = await stage([column('n', 0, 'BIGINT')], rows);
    expect(out.map((row) => row[1])).toEqual(values.map((value) => BigInt(value).toString()));
  });

  it('refuses a fraction or a bigint beyond int64 in a BIGINT column, as the appender did', async () => {
    await expect(stage([column('n', 0, 'BIGINT')], [{ n: 1.5 }])).rejects.toThrow(RangeError);
    await expect(stage([column('m', 1, 'BIGINT')], [{ m: 2n ** 63n }])).rejects.toThrow(
      /does not fit a BIGINT/,
    );
  });

  it('keeps NULLs in their rows across words of the mask and across chunks', async () => {
    // 5000 rows: three chunks (2048, 2048, 904); NULL where i % 7 === 3 in each type.
    const columns = [
      column('s', 0, 'VARCHAR'),
      column('n', 1, 'BIGINT'),
      column('d', 2, 'DOUBLE'),
      column('b', 3, 'BOOLEAN'),
    ];
    const rows: Row[] = Array.from({ length: 5000 }, (_, i) =>
      i % 7 === 3
        ? { s: null, n: null, d: null, b: null }
        : { s: `v${i}`, n: i * 1000, d: i / 4, b: i % 2 === 0 },
    );
    const out = await stage(columns, rows, 1, false);
    expect(out).toHaveLength(5000);
    for (let i = 0; i < 5000; i++) {
      const expected =
        i % 7 === 3
          ? [i + 1, null, null, null, null]
          : [i + 1, `v${i}`, BigInt(i * 1000), i / 4, i % 2 === 0];
      expect(out[i]).toEqual(expected);
    }
  });

  it("reads an inherited key only as the row's own member", async () => {
    const columns = [column('constructor', 0, 'VARCHAR', true)];
    const out = await stage(columns, [{ constructor: 'own' }, {}]);
    expect(out).toEqual([
      [0, 'own'],
      [1, null],
    ]);
  });
});
