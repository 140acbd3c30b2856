/**
 * A recorded terminal session: test/cli/terminal/record-progress.sh runs a long `run hist` against
 * the simulator in tmux and captures the screen every second. On a terminal the run shows one live
 * line per source in flight, redrawn in place: the captures must show that line moving on (more rows,
 * further through the window), never two copies of it, and at the end the summary table.
 * Nothing is skipped without tmux: the test fails and says how to install it (.ci/run does).
 */
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI_BIN, repoRoot } from '../support/cli-process.js';
import { useHarness } from '../support/harness.js';
import { cleanupTempDirs, tempDir } from '../support/temp-dirs.js';

const SCRIPT = path.join(repoRoot, 'test', 'cli', 'terminal', 'record-progress.sh');
const NOW = Date.UTC(2026, 5, 1);
const TABLE = 'klaviyo_events_hist';
/** `klaviyo_events_hist: 12,000 rows, 12 pages, 2,400 rows/s, 40% of window, ETA 6s` */
const LIVE_LINE = new RegExp(`^\\s+${TABLE}: ([\\d,]+) rows, ([\\d,]+) pages.*?(?:(\\d+)% of window)?`);

function runScript(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [SCRIPT, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString('utf8');
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stderr }));
  });
}

describe('live progress on a terminal (tmux)', () => {
  // 20 pages of 1,000 events, one request at a time, 120 ms each: a run of several seconds.
  const h = useHarness({ seed: 7, now: NOW, events: 20_000, profiles: 50, latencyMs: 120 });
  afterAll(cleanupTempDirs);

  it('redraws one line per source in flight with rows, pages, speed, window % and ETA, then the summary', async () => {
    const tmux = spawnSync('tmux', ['-V'], { encoding: 'utf8' });
    expect(tmux.error, 'tmux is needed for this test: apt-get install tmux (.ci/run installs it)').toBe(
      undefined,
    );
    const out = tempDir('ki-tmux-');
    const result = await runScript(
      [
        path.join(out, 'captures'),
        '1',
        '60',
        '--',
        process.execPath,
        CLI_BIN,
        'run',
        'hist',
        '--project',
        h.projectDir,
        '--destination',
        `duckdb:${h.dbPath}`,
        '--sources',
        'events',
        '--concurrency',
        '1',
      ],
      h.env,
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const dir = path.join(out, 'captures');
    expect(readFileSync(path.join(dir, 'exit-code'), 'utf8').trim()).toBe('0');

    const captures = readdirSync(dir)
      .filter((f) => f.startsWith('capture-'))
      .sort()
      .map((f) => readFileSync(path.join(dir, f), 'utf8'));
    const live = captures
      .map((screen) => screen.split('\n').filter((line) => LIVE_LINE.test(line)))
      .filter((lines) => lines.length > 0);
    // Redrawn in place: never more than one live line for the source on a screen.
    for (const lines of live) expect(lines).toHaveLength(1);
    const seen = live.map((lines) => {
      const m = LIVE_LINE.exec(lines[0] as string) as RegExpExecArray;
      return { rows: Number(m[1]?.replace(/,/g, '')), line: lines[0] as string };
    });
    expect(seen.length, `captures with a live line:\n${captures.join('\n---\n')}`).toBeGreaterThanOrEqual(3);
    // The line moved on between captures: rows only grow, and they changed several times.
    const rows = seen.map((s) => s.rows);
    expect(rows).toEqual([...rows].sort((a, b) => a - b));
    expect(new Set(rows).size).toBeGreaterThanOrEqual(3);
    expect(
      seen.some((s) => /rows\/s/.test(s.line) && /% of window/.test(s.line) && /ETA \d/.test(s.line)),
    ).toBe(true);
    // The header counts sources done; the last screen has the outcome and the summary table.
    expect(captures.some((screen) => /klaviyo_ingest_hist\.dig: 0 of 1 sources done/.test(screen))).toBe(
      true,
    );
    const final = readFileSync(path.join(dir, 'final.txt'), 'utf8');
    expect(final).toMatch(new RegExp(`${TABLE}: done, 20,000 rows loaded`));
    expect(final).toMatch(new RegExp(`events\\s+${TABLE}\\s+SUCCESS`));
    expect(final).toContain('1 of 1 sources ok');
    // The live region is gone once the run ended: no live line left on the final screen.
    expect(final.split('\n').filter((line) => LIVE_LINE.test(line))).toEqual([]);
  }, 120_000);
});
