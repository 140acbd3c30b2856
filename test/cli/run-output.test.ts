/**
 * What `run` prints while it runs when not on a terminal: plain progress lines every few seconds,
 * `--log-format json` (one JSON object per event), `--quiet`; the flags' bad values (exit 2, nothing
 * written); and `--every` keeping the process running, one run at a time, until SIGTERM.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli-in-process.js';
import { spawnCli } from '../support/cli-process.js';
import { queryDuckDB } from '../support/destination.js';
import { useHarness } from '../support/harness.js';
import { cleanupTempDirs } from '../support/temp-dirs.js';

const NOW = Date.UTC(2026, 2, 1);

describe('run output and schedules', () => {
  const h = useHarness({ seed: 9, now: NOW, events: 3000, profiles: 100, latencyMs: 20 });
  afterAll(cleanupTempDirs);
  const db = (name: string) => path.join(h.dir, `${name}.duckdb`);
  const args = (file: string, ...extra: string[]) => [
    'run',
    'inc',
    '--project',
    h.projectDir,
    '--destination',
    `duckdb:${file}`,
    ...extra,
  ];

  it('--log-format json: one JSON object per line per event, nothing else, no key', async () => {
    const result = await runCli(args(db('json'), '--log-format', 'json'), h.env);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('');
    const lines = result.stderr.trim().split('\n');
    const events = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    for (const e of events) {
      expect(Number.isNaN(Date.parse(String(e.time)))).toBe(false);
      expect(['info', 'warn', 'error']).toContain(e.level);
    }
    const kinds = events.map((e) => e.event);
    expect(kinds[0]).toBe('run-start');
    expect(kinds.at(-1)).toBe('run-end');
    for (const kind of ['start', 'page', 'commit', 'success']) expect(kinds).toContain(kind);
    expect(kinds.filter((k) => k === 'success')).toHaveLength(6);
    const page = events.find((e) => e.event === 'page' && e.table === 'klaviyo_events');
    expect(page).toMatchObject({ source: 'events', run: events[0]?.runId });
    expect(Number(page?.rows)).toBeGreaterThan(0);
    expect(Number(page?.windowDone)).toBeGreaterThan(0);
    const success = events.find((e) => e.event === 'success' && e.table === 'klaviyo_events');
    expect(success?.records).toBe(h.sim.count('events', { field: 'datetime', gte: Date.UTC(2025, 8, 1) }));
    expect(events.at(-1)).toMatchObject({ ok: true, stoppedBy: null });
    expect(result.stderr).not.toContain(h.env.KLAVIYO_API_KEY);
  });

  it('not a terminal: a plain progress line per source in flight at the interval, and one when it ends', async () => {
    const result = await runCli(args(db('plain'), '--sources', 'events', '--concurrency', '1'), {
      ...h.env,
      KLAVIYO_INGEST_PROGRESS_INTERVAL: '0.05',
    });
    expect(result.code).toBe(0);
    const progress = result.stderr.split('\n').filter((l) => l.startsWith('progress klaviyo_events: '));
    expect(progress.length).toBeGreaterThan(1);
    expect(progress.at(-1)).toMatch(/^progress klaviyo_events: [\d,]+ rows, [\d,]+ pages/);
    expect(result.stderr).toMatch(
      /^klaviyo_events: done, [\d,]+ rows loaded \([\d,]+ read, \d+ pages\) in \d+s$/m,
    );
    expect(result.stdout).toMatch(/events\s+klaviyo_events\s+SUCCESS/);
  });

  it('--quiet: nothing printed when all went well', async () => {
    const result = await runCli(args(db('quiet'), '--quiet'), h.env);
    expect(result).toMatchObject({ code: 0, stdout: '', stderr: '' });
  });

  const usage: [string, string[], Record<string, string>, RegExp][] = [
    ['--log-format xml', ['--log-format', 'xml'], {}, /--log-format must be text or json, got 'xml'/],
    ['--quiet with --verbose', ['--quiet', '--verbose'], {}, /--quiet cannot be combined with --verbose/],
    [
      'a progress interval that is not a number',
      [],
      { KLAVIYO_INGEST_PROGRESS_INTERVAL: 'often' },
      /KLAVIYO_INGEST_PROGRESS_INTERVAL must be a number of seconds above 0, got 'often'/,
    ],
    [
      '--every soon',
      ['--every', 'soon'],
      {},
      /--every must be a duration such as 30s, 15m, 1h, 1d or 1h30m, got 'soon'/,
    ],
    [
      '--cron with a bad field',
      ['--cron', '61 * * * *'],
      {},
      /--cron "61 \* \* \* \*" is not a cron expression/,
    ],
    [
      '--every with --cron',
      ['--every', '1h', '--cron', '0 * * * *'],
      {},
      /--every and --cron cannot be used together/,
    ],
    [
      '--every with --start',
      ['--every', '1h', '--start', '2026-01-01'],
      {},
      /cannot be combined with --start/,
    ],
  ];
  for (const [name, extra, env, message] of usage) {
    it(`${name}: exit 2, the flag and a fix named, no database written`, async () => {
      const file = db(`usage-${name.replace(/\W+/g, '-')}`);
      const result = await runCli(args(file, ...extra), { ...h.env, ...env });
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(message);
      expect(result.stderr).toMatch(/\n {2}fix: /);
      expect(existsSync(file)).toBe(false);
    });
  }

  it('--every 1s keeps running, one run at a time; SIGTERM between runs exits 0', async () => {
    const file = db('every');
    const run = spawnCli(args(file, '--every', '1s', '--log-format', 'json', '--sources', 'events,metrics'), {
      env: h.env,
    });
    let stderr = '';
    run.child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString('utf8');
    });
    const parsed = () =>
      stderr
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { event: string; message?: string });
    const deadline = Date.now() + 90_000;
    while (parsed().filter((e) => e.event === 'run-end').length < 3) {
      if (Date.now() > deadline || run.exited()) throw new Error(`no third run:\n${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    // Between runs: the last event is the schedule's "next run at".
    while (!/next run at/.test(String(parsed().at(-1)?.message))) await new Promise((r) => setTimeout(r, 20));
    run.child.kill('SIGTERM');
    const result = await run.done;
    expect(result.code).toBe(0);
    const events = parsed();
    const runs = events.filter((e) => e.event === 'run-start' || e.event === 'run-end').map((e) => e.event);
    // Never two at once: starts and ends alternate.
    expect(runs.slice(0, 6)).toEqual([
      'run-start',
      'run-end',
      'run-start',
      'run-end',
      'run-start',
      'run-end',
    ]);
    const messages = events.filter((e) => e.event === 'schedule').map((e) => String(e.message));
    expect(messages[0]).toBe('schedule: every 1s; first run now (Ctrl-C or SIGTERM stops it)');
    expect(messages.at(-1)).toBe('schedule: stopped by SIGTERM between runs; nothing was in flight');
    const log = await queryDuckDB(
      file,
      "SELECT status, count(*) AS n FROM klaviyo_src.ingestion_log WHERE table_name = 'klaviyo_events' GROUP BY status ORDER BY status",
    );
    const done = runs.filter((e) => e === 'run-end').length;
    expect(log.map((r) => `${r.status} ${r.n}`)).toEqual([`STARTED ${done}`, `SUCCESS ${done}`]);
  }, 120_000);
});
