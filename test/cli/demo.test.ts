import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type CliProcessResult, runCliProcessSync } from '../support/cli-process.js';
import { queryDuckDB } from '../support/destination.js';
import { cleanupTempDirs, tempDir } from '../support/temp-dirs.js';

const dir = tempDir('ki-demo-');

/** The README's first command, as a newcomer runs it: the built bin in a fresh folder. */
function demo(): CliProcessResult {
  return runCliProcessSync(['demo', '--events', '3000', '--profiles', '300'], {
    cwd: dir,
    env: { KLAVIYO_API_KEY: '', KLAVIYO_BASE_URL: '' },
    timeoutMs: 120_000,
  });
}

describe('klaviyo-ingest demo', () => {
  afterAll(cleanupTempDirs);

  it('runs the incremental workflow on the simulator into ./klaviyo.duckdb and prints the summary', async () => {
    const first = demo();
    expect(first.stderr).not.toMatch(/unexpected error/);
    expect(first.code).toBe(0);
    for (const table of [
      'klaviyo_events',
      'klaviyo_email_templates',
      'klaviyo_campaigns',
      'klaviyo_lists',
      'klaviyo_profiles',
      'klaviyo_metric_data',
    ]) {
      expect(first.stdout).toMatch(new RegExp(`${table}\\s+SUCCESS`));
    }
    expect(first.stdout).toContain('6 of 6 sources ok');
    const [events] = await queryDuckDB(
      path.join(dir, 'klaviyo.duckdb'),
      'SELECT count(*) AS n FROM klaviyo_src.klaviyo_events',
    );
    expect(Number(events?.n)).toBeGreaterThan(1000);

    // The second run the same day is incremental: nothing new, nothing duplicated.
    const second = demo();
    expect(second.code).toBe(0);
    const [again] = await queryDuckDB(
      path.join(dir, 'klaviyo.duckdb'),
      'SELECT count(*) AS n FROM klaviyo_src.klaviyo_events',
    );
    expect(Number(again?.n)).toBe(Number(events?.n));
    expect(second.stdout).toMatch(/klaviyo_events\s+SUCCESS\s+\S+\s+\S+\s+0\s/);
  });
});
