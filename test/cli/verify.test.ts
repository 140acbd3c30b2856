import { existsSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli-in-process.js';
import { clockFrom } from '../support/clocks.js';
import { useHarness } from '../support/harness.js';

const NOW = Date.UTC(2025, 9, 15, 12, 0, 0);
const OCT_10 = Date.UTC(2025, 9, 10);

describe('klaviyo-ingest verify (CLI)', () => {
  const h = useHarness({ seed: 4, now: NOW, events: 1200, profiles: 80, metrics: 3 });
  const args = (...extra: string[]) => [
    'verify',
    '--project',
    h.projectDir,
    '--destination',
    `duckdb:${h.dbPath}`,
    ...extra,
  ];
  const cli = (...extra: string[]) => runCli(args(...extra), h.env);

  beforeAll(async () => {
    // Two of the first metric's events on Oct 10 are not listed when the table is loaded.
    h.sim.holdBackEvents({
      from: OCT_10,
      to: OCT_10 + 86_400_000,
      metricId: h.sim.data.metrics.id(0),
      limit: 2,
    });
    const report = await h.run({ clock: clockFrom(NOW), sources: ['events'] });
    expect(report.ok).toBe(true);
  });

  it('prints days checked and matching and each differing day, and exits 1 when any differs', async () => {
    const result = await cli();
    expect(result.code, result.stderr).toBe(1);
    const lines = result.stdout.split('\n');
    // The hist table was never loaded: listed, not checked.
    expect(lines.find((l) => l.startsWith('klaviyo_events_hist '))).toMatch(/\(not loaded\)/);
    expect(lines.find((l) => l.startsWith('klaviyo_events '))).toMatch(
      /^klaviyo_events\s+2025-09-01T00:00:00\.000000 \.\. 2025-10-15T12:00:\d\d\.\d{6}\s+3\s+45\s+44\s+1$/,
    );
    const metricId = h.sim.data.metrics.id(0);
    const klaviyo = h.sim.data.ids('events', (get) => {
      const t = get('datetime') as number;
      return get('metric_id') === metricId && t >= OCT_10 && t < OCT_10 + 86_400_000;
    }).length;
    const row = lines.find((l) => l.startsWith('2025-10-10 '));
    expect(row).toContain(metricId);
    expect(row).toMatch(new RegExp(`\\s${klaviyo - 2}\\s+${klaviyo}$`));
    expect(result.stdout).toMatch(/verify: 45 days checked, 44 match, 1 differ \(\d+ API requests/);
  });

  it('--repair closes the gap once the events are listed, and a plain verify then exits 0', async () => {
    h.sim.releaseEvents();
    const repaired = await cli('--sources', 'klaviyo_events', '--repair', '--json');
    expect(repaired.code, repaired.stderr).toBe(0);
    const report = JSON.parse(repaired.stdout);
    expect(report.ok).toBe(true);
    expect(report.tables[0].repair).toMatchObject({ days: 1, inserted: 2 });
    const clean = await cli('--sources', 'events');
    expect(clean.code, clean.stderr).toBe(0);
    expect(clean.stdout).toMatch(/verify: 45 days checked, 45 match — every day matches Klaviyo/);
  });

  it.each([
    [['--start', 'yesterday-ish'], /--start 'yesterday-ish' is not a timestamp/],
    [['--start', '2025-10-02', '--end', '2025-10-01'], /--start '2025-10-02' is not before --end/],
    [
      ['--sources', 'profiles'],
      /--sources names profiles, which is not an events datasource.*choose from: events, klaviyo_events_hist, klaviyo_events/s,
    ],
    [['--repiar'], /unknown option '--repiar'/],
  ])('bad usage %j: exit 2 and a clear message, nothing written', async (extra, message) => {
    const result = await cli(...extra);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
  });

  it('a destination that does not exist: exit 2, and no database file is created', async () => {
    const missing = path.join(h.dir, 'nothing-here.duckdb');
    const result = await runCli(
      ['verify', '--project', h.projectDir, '--destination', `duckdb:${missing}`],
      h.env,
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/nothing-here\.duckdb/);
    expect(existsSync(missing)).toBe(false);
  });

  it('a revoked key: a clear 401 error naming where the key comes from, never the key', async () => {
    h.sim.setApiKeys(['pk_another_key_000000000000000000000']);
    try {
      const result = await cli('--sources', 'klaviyo_events');
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/401.*The API key from env KLAVIYO_API_KEY was rejected/s);
      expect(result.stderr + result.stdout).not.toContain(h.env.KLAVIYO_API_KEY as string);
    } finally {
      h.sim.setApiKeys([h.env.KLAVIYO_API_KEY as string]);
    }
  });
});
