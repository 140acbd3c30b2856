import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDestination } from '../../src/warehouse/open-destination.js';
import { runCli } from '../support/cli-in-process.js';
import { clockFrom } from '../support/clocks.js';
import { logRow } from '../support/destination.js';
import { useHarness } from '../support/harness.js';
import { type FreshSchema, freshSchema, postgresUrl, withPostgres } from '../support/postgres.js';

const NOW = Date.UTC(2025, 9, 15, 12, 0, 0);

describe('klaviyo-ingest status', () => {
  const h = useHarness({ seed: 2, now: NOW, events: 1500, profiles: 100 });
  let end = 0;
  beforeAll(async () => {
    h.sim.setApiKeys([h.env.KLAVIYO_API_KEY as string], {
      [h.env.KLAVIYO_API_KEY as string]: ['events:read', 'metrics:read'],
    });
    const report = await h.run({ clock: clockFrom(NOW), sources: ['events', 'profiles', 'metrics'] });
    end = Date.parse(`${String(report.sources[0]?.endTime).slice(0, 19)}Z`);
  });

  it('shows rows, the last run and what was loaded up to, per table, and the last error; exit 1 for the failed table', async () => {
    const result = await runCli(['status', '--project', h.projectDir, '--destination', `duckdb:${h.dbPath}`]);
    // A monitor calls it: a table whose last run failed makes it exit 1.
    expect(result.code).toBe(1);
    const lines = result.stdout.split('\n');
    const events = h.sim.count('events', { field: 'datetime', gte: Date.UTC(2025, 8, 1), lt: end });
    expect(lines.find((l) => l.startsWith('klaviyo_events '))).toMatch(
      new RegExp(
        `^klaviyo_events\\s+${events}\\s+SUCCESS\\s+.*2025-10-15T12:00:\\d\\d\\.000000\\s+${events}$`,
      ),
    );
    expect(lines.find((l) => l.startsWith('klaviyo_profiles '))).toMatch(
      /^klaviyo_profiles\s+\(no table\)\s+ERROR\s+/,
    );
    expect(result.stdout).toMatch(/klaviyo_profiles: profiles \(klaviyo_profiles\) failed: .*403/);
  });

  it('--json gives the same facts as data', async () => {
    const result = await runCli([
      'status',
      '--schema',
      'klaviyo_src',
      '--destination',
      `duckdb:${h.dbPath}`,
      '--json',
    ]);
    const statuses = JSON.parse(result.stdout) as {
      table: string;
      lastStatus: string;
      rows: number | null;
    }[];
    expect(result.code).toBe(1);
    expect(statuses.map((s) => `${s.table} ${s.lastStatus}`)).toEqual([
      'klaviyo_events SUCCESS',
      'klaviyo_metric_data SUCCESS',
      'klaviyo_profiles ERROR',
    ]);
    expect(statuses.map((s) => (s as unknown as { state: string }).state)).toEqual(['ok', 'ok', 'failed']);
  });
});

describe('klaviyo-ingest status on PostgreSQL: a STARTED load is running while a run holds the schema, else interrupted', () => {
  let schema: FreshSchema;
  beforeAll(async () => {
    schema = await freshSchema('ki_status');
    const destination = await openDestination(postgresUrl());
    try {
      await destination.appendLog(schema.name, [
        logRow({ log_id: 'a', table_name: 'klaviyo_events', status: 'SUCCESS', time: 1_780_000_000 }),
        logRow({ log_id: 'b', table_name: 'klaviyo_events', status: 'STARTED', time: 1_780_003_600 }),
        logRow({ log_id: 'c', table_name: 'klaviyo_lists', status: 'SUCCESS', time: 1_780_003_600 }),
      ]);
    } finally {
      await destination.close();
    }
  });
  afterAll(async () => schema?.drop());

  const status = () =>
    runCli(['status', '--schema', schema.name, '--destination', postgresUrl(), '--json'], {});
  const states = (stdout: string) =>
    (JSON.parse(stdout) as { table: string; state: string }[]).map((s) => `${s.table} ${s.state}`);

  it('no run holds the schema: interrupted, exit 1', async () => {
    const result = await status();
    expect(result.code).toBe(1);
    expect(states(result.stdout)).toEqual(['klaviyo_events interrupted', 'klaviyo_lists ok']);
  });

  it("another run holds the schema's lock: running, exit 0", async () => {
    await withPostgres(async (client) => {
      await client.query("SELECT pg_advisory_lock(hashtext('klaviyo-ingest'), hashtext($1))", [schema.name]);
      const result = await status();
      expect(result.code).toBe(0);
      expect(states(result.stdout)).toEqual(['klaviyo_events running', 'klaviyo_lists ok']);
    });
  });
});
