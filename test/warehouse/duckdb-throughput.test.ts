import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Row } from '../../src/records/row.js';
import { openDuckDBDestination } from '../../src/warehouse/duckdb/duckdb-destination.js';
import { logRow } from '../support/destination.js';
import { cleanupTempDirs, tempDir } from '../support/temp-dirs.js';

const dir = tempDir('ki-warehouse-');
afterAll(cleanupTempDirs);

const ROWS = 200_000;
const BATCH = 1_000;

/** An event as the flattening step produces it. */
function event(i: number): Row {
  const second = String(i % 60).padStart(2, '0');
  return {
    id: `evt_${i.toString(36).padStart(8, '0')}`,
    datetime: `2025-09-03T10:${String(Math.floor(i / 60) % 60).padStart(2, '0')}:${second}+00:00`,
    timestamp: 1_756_894_272 + i,
    uuid: `0000${i}-aaaa-bbbb-cccc-dddddddddddd`,
    event_properties: { $value: i % 100, $extra: { page: '/x' }, items: ['a', 'b'] },
    metric_id: 'MET123',
    profile_id: `01PROFILE${i % 5000}`,
    value: (i % 1000) / 10,
    flag: i % 2 === 0,
    time: 1_756_900_000,
  };
}

describe('appender staging throughput', () => {
  it(`stages and commits ${ROWS} rows`, async () => {
    const dest = await openDuckDBDestination(join(dir, 'bench.duckdb'));
    try {
      const session = await dest.openLoad({
        schema: 'src',
        table: 'events',
        mode: 'append',
        windowColumn: 'datetime',
      });
      // Only write() and commit() are timed, not building the rows.
      let staging = 0;
      for (let offset = 0; offset < ROWS; offset += BATCH) {
        const batch: Row[] = [];
        for (let i = offset; i < offset + BATCH; i++) batch.push(event(i));
        const started = performance.now();
        await session.write(batch);
        staging += performance.now() - started;
      }
      const commitStarted = performance.now();
      const result = await session.commit([logRow({ records_processed: ROWS })]);
      const commit = performance.now() - commitStarted;
      expect(result).toEqual({ inserted: ROWS, duplicatesSkipped: 0 });
      const [count] = await dest.query(
        'SELECT count(*)::INT AS n, count(DISTINCT id)::INT AS ids FROM src.events',
      );
      expect(count).toEqual({ n: ROWS, ids: ROWS });
      const rate = (ms: number) => Math.round(ROWS / (ms / 1000));
      console.log(
        `[warehouse throughput] ${ROWS} rows: staging ${rate(staging)} rows/s (${Math.round(staging)} ms), ` +
          `commit ${Math.round(commit)} ms, staging + commit ${rate(staging + commit)} rows/s`,
      );
    } finally {
      await dest.close();
    }
  });
});
