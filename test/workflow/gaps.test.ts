/**
 * Gaps: a `--start/--end` test run ahead of the data moves the table's max, so plain runs never load
 * the months before it. Each run says so (report, text and --json) with the command that back-fills
 * the gap, and that command loads exactly the gap, once, on every destination.
 */
import { describe, expect, it } from 'vitest';
import { findGaps } from '../../src/workflow/gaps.js';
import { runCli } from '../support/cli-in-process.js';
import { DESTINATION_KINDS, queryDestination } from '../support/destination.js';
import { simValues, useHarness } from '../support/harness.js';

const T = (day: string) => `${day}T00:00:00.000000`;
const NOW = Date.UTC(2025, 9, 15, 12, 0, 0);
const DEFAULT_START = Date.UTC(2025, 8, 1);

describe('findGaps', () => {
  const w = (start: string, end: string, status: 'SUCCESS' | 'ERROR' = 'SUCCESS') => ({
    status,
    start_time: T(start),
    end_time: T(end),
  });
  const gaps = (windowStart: string, logged: ReturnType<typeof w>[], startOverridden = false) =>
    findGaps({ defaultStart: T('2025-09-01'), windowStart: T(windowStart), startOverridden, logged });

  it('reports what lies before the first loaded window and between windows', () => {
    expect(gaps('2026-01-31', [w('2026-01-01', '2026-02-01')])).toEqual([
      { start: T('2025-09-01'), end: T('2026-01-01') },
    ]);
    expect(gaps('2026-02-10', [w('2025-09-01', '2025-10-01'), w('2026-01-01', '2026-02-01')])).toEqual([
      { start: T('2025-10-01'), end: T('2026-01-01') },
    ]);
    // A --start that skips ahead of everything loaded: the hole up to it.
    expect(gaps('2026-01-01', [w('2025-09-01', '2025-10-01')], true)).toEqual([
      { start: T('2025-10-01'), end: T('2026-01-01') },
    ]);
  });

  it('is quiet when the windows join up, overlap, or a failed run resumed inside its window', () => {
    expect(gaps('2025-12-01', [w('2025-09-01', '2025-10-01'), w('2025-09-30', '2025-12-01')])).toEqual([]);
    expect(
      gaps('2025-11-15', [w('2025-09-01', '2025-10-01'), w('2025-10-01', '2025-12-01', 'ERROR')]),
    ).toEqual([]);
    expect(gaps('2025-09-01', [])).toEqual([]);
    // A killed run wrote checkpoints but no window: the hole ends at the table's max, not at a logged window.
    expect(gaps('2025-10-20', [w('2025-09-01', '2025-10-01')])).toEqual([]);
    // The backfill window itself starts at default_start_time: nothing before it.
    expect(gaps('2025-09-01', [w('2025-10-01', '2025-10-05')], true)).toEqual([]);
  });
});

describe.each(DESTINATION_KINDS)('a test window ahead of the data, then plain runs (%s)', (kind) => {
  const h = useHarness({ seed: 9, now: NOW, events: 1500, profiles: 20 }, 120_000, kind);
  const events = () => `${h.schema}.klaviyo_events`;
  const base = () => ['--project', h.projectDir, '--destination', h.destination, '--sources', 'events'];

  it('warns with the back-fill command, which loads exactly the gap once', async () => {
    const test = await h.run({ sources: ['events'], start: '2025-10-01', end: '2025-10-05' });
    const gap = { start: T('2025-09-01'), end: T('2025-10-01') };
    expect(test.sources[0]?.gaps).toEqual([{ ...gap, command: expect.stringContaining('--start') }]);

    const json = await runCli(['run', 'inc', ...base(), '--json'], h.env);
    expect(json.code, json.stderr).toBe(0);
    const report = JSON.parse(json.stdout);
    const [found] = report.sources[0].gaps;
    expect(found).toMatchObject(gap);
    // A PostgreSQL URL is shown without its password (the back-fill run then needs PGPASSWORD).
    const password = new URL(kind === 'postgres' ? h.destination : 'x://h').password;
    const shown = password ? h.destination.replace(`:${password}@`, '@') : h.destination;
    expect(found.command).toBe(
      `klaviyo-ingest run inc --project ${h.projectDir} --destination ${shown} --sources klaviyo_events --start ${gap.start} --end ${gap.end}`,
    );
    const env = password ? { ...h.env, PGPASSWORD: decodeURIComponent(password) } : h.env;

    const text = await runCli(['run', 'inc', ...base()], h.env);
    expect(text.stdout).toContain(
      `warning: klaviyo_events: ${gap.start} .. ${gap.end} was never loaded, and runs resume from the table's max, so none will load it. Back-fill it once with:\n  ${found.command}`,
    );

    const backfill = await runCli(found.command.split(' ').slice(1), env);
    expect(backfill.code, backfill.stderr).toBe(0);
    const inGap = simValues(h.sim, 'events', 'datetime').filter(
      (e) => e.ms >= DEFAULT_START && e.ms < Date.UTC(2025, 9, 1),
    );
    expect(inGap.length).toBeGreaterThan(100);
    expect(backfill.stdout).toMatch(
      new RegExp(`klaviyo_events\\s+SUCCESS\\s+${gap.start}\\s+${gap.end}\\s+${inGap.length}\\s`),
    );

    // The table now holds every event from default_start_time on, each once.
    const expected = simValues(h.sim, 'events', 'datetime')
      .filter((e) => e.ms >= DEFAULT_START)
      .map((e) => e.id)
      .sort();
    const rows = await queryDestination(h.destination, `SELECT id FROM ${events()} ORDER BY id`);
    expect(rows.map((r) => String(r.id))).toEqual(expected);

    // Once more: nothing added; and plain runs are quiet now.
    const again = await runCli([...found.command.split(' ').slice(1), '--json'], env);
    expect(JSON.parse(again.stdout).sources[0].records).toBe(0);
    const quiet = await h.run({ sources: ['events'] });
    expect(quiet.sources[0]?.gaps).toBeUndefined();
    const count = await queryDestination(h.destination, `SELECT count(*) AS n FROM ${events()}`);
    expect(Number(count[0]?.n)).toBe(expected.length);
  });
});
