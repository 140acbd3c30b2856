import { readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openParquetDestination } from '../../src/warehouse/parquet/parquet-destination.js';
import { runCli } from '../support/cli-in-process.js';
import { loadBatches, loadTarget, queryDestination } from '../support/destination.js';
import { cleanupTempDirs, tempDir } from '../support/temp-dirs.js';

afterAll(cleanupTempDirs);

const partFiles = (dir: string) =>
  (readdirSync(dir, { recursive: true }) as string[]).filter((name) => name.endsWith('.parquet')).length;

describe('klaviyo-ingest compact', () => {
  it("merges each partition's files of a Parquet dataset into one and keeps every row", async () => {
    const lake = tempDir('ki-compact-');
    const dest = await openParquetDestination(lake);
    const target = loadTarget('src', 'events', 'append', 'datetime');
    for (let run = 0; run < 3; run++) {
      await loadBatches(
        dest,
        target,
        [0, 1].map((day) => ({ id: `e${run}-${day}`, datetime: `2025-09-0${day + 1}T0${run}:00:00Z` })),
      );
    }
    await dest.close();
    expect(partFiles(path.join(lake, 'src', 'events'))).toBe(6);

    const result = await runCli([
      'compact',
      '--destination',
      `parquet:${lake}`,
      '--schema',
      'src',
      '--tables',
      'events',
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.split('\n').find((line) => line.startsWith('events '))).toMatch(
      /^events\s+6\s+2\s+6$/,
    );
    expect(partFiles(path.join(lake, 'src', 'events'))).toBe(2);
    const [row] = await queryDestination(
      `parquet:${lake}`,
      'SELECT count(*)::INT AS n, count(DISTINCT id)::INT AS d FROM src.events',
    );
    expect(row).toEqual({ n: 6, d: 6 });
  });

  it('refuses a destination that is not a Parquet dataset, naming the flag', async () => {
    const result = await runCli(['compact', '--destination', 'duckdb:./x.duckdb', '--schema', 'src']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/compact works on Parquet datasets only/);
    expect(result.stderr).toMatch(/--destination/);
  });
});
