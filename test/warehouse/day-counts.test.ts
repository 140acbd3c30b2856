/** `verify`'s reads through the contract's `query`: rows per (group, UTC day), and the range loads cover. */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { countRowsPerDay, coveredRange, DAY_MS } from '../../src/warehouse/day-counts.js';
import type { Destination } from '../../src/warehouse/destination.js';
import { openDestination } from '../../src/warehouse/open-destination.js';
import {
  DESTINATION_KINDS,
  type DestinationKind,
  loadBatches,
  loadTarget,
  logRow,
} from '../support/destination.js';
import { postgresUrl, withPostgres } from '../support/postgres.js';
import { cleanupTempDirs, tempDir } from '../support/temp-dirs.js';

const dir = tempDir('ki-day-counts-');
afterAll(cleanupTempDirs);

async function open(kind: DestinationKind): Promise<{ destination: Destination; schema: string }> {
  const schema = `ki_days_${randomBytes(4).toString('hex')}`;
  const url = kind === 'duckdb' ? `duckdb:${join(dir, `db-${schema}.duckdb`)}` : postgresUrl();
  return { destination: await openDestination(url), schema };
}

const SEP_1 = Date.UTC(2025, 8, 1);

describe.each(DESTINATION_KINDS)('day counts (%s)', (kind) => {
  it('counts rows per metric and UTC day, whatever offset or separator the text carries', async () => {
    const { destination, schema } = await open(kind);
    try {
      await destination.ensureSchema(schema);
      const row = (id: string, datetime: string, metric_id: string) => ({ id, datetime, metric_id, time: 1 });
      await loadBatches(destination, loadTarget(schema, 'events', 'append', 'datetime'), [
        row('a', '2025-09-01T00:00:00+00:00', 'M1'),
        row('b', '2025-09-01 23:59:59.999000+00:00', 'M1'),
        // 23:30 at UTC-2 is 01:30 UTC on Sep 2.
        row('c', '2025-09-01T23:30:00-02:00', 'M1'),
        row('d', '2025-09-02T10:00:00Z', 'M2'),
        // Outside the range asked for.
        row('e', '2025-08-31T23:59:59+00:00', 'M1'),
        row('f', '2025-09-03T00:00:00+00:00', 'M1'),
      ]);
      const counts = await countRowsPerDay(destination, {
        schema,
        table: 'events',
        timeColumn: 'datetime',
        groupColumn: 'metric_id',
        fromMs: SEP_1,
        toMs: SEP_1 + 2 * DAY_MS,
      });
      const sorted = counts
        .map((c) => [c.group, c.dayMs, c.count])
        .sort((a, b) => String(a).localeCompare(String(b)));
      expect(sorted).toEqual([
        ['M1', SEP_1, 2],
        ['M1', SEP_1 + DAY_MS, 1],
        ['M2', SEP_1 + DAY_MS, 1],
      ]);

      // The range: the log's SUCCESS window (loadBatches logs Sep 1 .. Sep 2), widened to the rows.
      expect(await coveredRange(destination, schema, 'events', 'datetime')).toEqual({
        fromMs: Date.UTC(2025, 7, 31, 23, 59, 59),
        toMs: Date.UTC(2025, 8, 3) + 1,
      });
      await destination.appendLog(schema, [
        logRow({
          table_name: 'events',
          start_time: '2025-08-01T00:00:00.000000',
          end_time: '2025-09-10T00:00:00.000000',
        }),
        logRow({ table_name: 'events', status: 'ERROR', start_time: '2025-01-01T00:00:00.000000' }),
      ]);
      expect(await coveredRange(destination, schema, 'events', 'datetime')).toEqual({
        fromMs: Date.UTC(2025, 7, 1),
        toMs: Date.UTC(2025, 8, 10),
      });
      expect(await coveredRange(destination, schema, 'never_loaded', 'datetime')).toBeNull();
      expect(
        await countRowsPerDay(destination, {
          schema,
          table: 'never_loaded',
          timeColumn: 'datetime',
          groupColumn: 'metric_id',
          fromMs: SEP_1,
          toMs: SEP_1 + DAY_MS,
        }),
      ).toEqual([]);
    } finally {
      await destination.close();
      if (kind === 'postgres') await withPostgres((c) => c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`));
    }
  });
});
