import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli-in-process.js';
import { clockFrom } from '../support/clocks.js';
import { useHarness } from '../support/harness.js';

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

  it('shows rows, the last run and what was loaded up to, per table, and the last error', async () => {
    const result = await runCli(['status', '--project', h.projectDir, '--destination', `duckdb:${h.dbPath}`]);
    expect(result.code).toBe(0);
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
    expect(statuses.map((s) => `${s.table} ${s.lastStatus}`)).toEqual([
      'klaviyo_events SUCCESS',
      'klaviyo_metric_data SUCCESS',
      'klaviyo_profiles ERROR',
    ]);
  });
});
