/**
 * Run control with the real binary against the simulator over HTTP: clean stops on SIGTERM/SIGINT
 * (exit 143/130, an ERROR row naming the signal, what was committed, a rerun resumes), a SIGKILLed run
 * shown as interrupted by `status` and closed by the next run, `status` during a run (from the
 * run-state file beside the DuckDB file), and `demo` removing its temp folder when stopped.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readRunState, runStatePath } from '../../src/cli/run-state.js';
import { runCliProcess, spawnCli } from '../support/cli-process.js';
import { queryDuckDB } from '../support/destination.js';
import { useHarness } from '../support/harness.js';
import { cleanupTempDirs, tempDir } from '../support/temp-dirs.js';

const NOW = Date.UTC(2026, 5, 1);
const TABLE = 'klaviyo_events_hist';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(what: string, check: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describe('run control (the CLI process)', () => {
  // 12 pages of 1,000 events read one at a time, 150 ms each: a run of some seconds with several commits.
  const h = useHarness({ seed: 11, now: NOW, events: 12_000, profiles: 50, latencyMs: 150 });
  afterAll(cleanupTempDirs);

  const db = (name: string) => path.join(h.dir, `${name}.duckdb`);
  const runArgs = (file: string) => [
    'run',
    'hist',
    '--project',
    h.projectDir,
    '--destination',
    `duckdb:${file}`,
    '--sources',
    'events',
    '--concurrency',
    '1',
    '--checkpoint-rows',
    '2000',
  ];
  const env = () => ({ ...h.env, KLAVIYO_INGEST_PROGRESS_INTERVAL: '0.2' });
  const log = (file: string) =>
    queryDuckDB(
      file,
      `SELECT status, error_message FROM klaviyo_src.ingestion_log WHERE table_name = '${TABLE}' ORDER BY log_id`,
    );
  const rows = async (file: string) =>
    Number((await queryDuckDB(file, `SELECT count(*) AS n FROM klaviyo_src.${TABLE}`))[0]?.n);

  for (const [signal, code] of [
    ['SIGTERM', 143],
    ['SIGINT', 130],
  ] as const) {
    it(`${signal} mid-load: the commit in flight finishes, ERROR row names ${signal}, exit ${code}; a rerun completes exactly once (SIGTERM)`, async () => {
      const file = db(`stop-${signal}`);
      const run = spawnCli(runArgs(file), { env: env() });
      // Stop once a checkpoint has committed (the plain progress line says so).
      let stderr = '';
      run.child.stderr?.on('data', (d: Buffer) => {
        stderr += d.toString('utf8');
      });
      await waitFor('a committed checkpoint', () =>
        /progress klaviyo_events_hist: .* committed/.test(stderr),
      );
      // The run-state file is kept beside the database while the run runs.
      expect(readRunState(file)?.alive).toBe(true);
      run.child.kill(signal);
      const result = await run.done;
      expect(result.code).toBe(code);
      expect(result.stderr).toContain(`${signal}: stopping: no new requests`);
      expect(result.stderr).toMatch(
        new RegExp(
          `Stopped by ${signal}\\. What each table holds now:\\n {2}${TABLE}: \\d+ rows committed, up to \\S+; the rest was rolled back`,
        ),
      );
      expect(result.stderr).toContain('Run the same command again: each table resumes');
      expect(result.stdout).toMatch(new RegExp(`events\\s+${TABLE}\\s+ERROR`));
      expect(existsSync(runStatePath(file))).toBe(false);
      const committed = await rows(file);
      expect(committed).toBeGreaterThan(0);
      expect(committed).toBeLessThan(h.sim.count('events'));
      const entries = await log(file);
      expect(entries.map((e) => e.status)).toEqual(['STARTED', 'ERROR']);
      expect(String(entries[1]?.error_message)).toMatch(
        new RegExp(`stopped by ${signal}; ${committed} rows were committed .*, a rerun resumes from there`),
      );

      if (signal === 'SIGINT') return; // the rerun after a stop is the same for both signals
      const rerun = await runCliProcess(runArgs(file), { env: env() });
      expect(rerun.code).toBe(0);
      expect(await rows(file)).toBe(h.sim.count('events'));
      const [dups] = await queryDuckDB(
        file,
        `SELECT count(*) - count(DISTINCT id) AS n FROM klaviyo_src.${TABLE}`,
      );
      expect(Number(dups?.n)).toBe(0);
    }, 120_000);
  }

  it('status during a run shows its progress; after SIGKILL it shows INTERRUPTED (exit 1); the next run closes it', async () => {
    const file = db('killed');
    // Every events page a second late: the run is still loading while both statuses run.
    h.sim.addFault('slow@events:p=1:ms=1000');
    const run = spawnCli(runArgs(file), { env: env() });
    let stderr = '';
    run.child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString('utf8');
    });
    await waitFor('a committed checkpoint', () => /progress klaviyo_events_hist: .* committed/.test(stderr));

    // The file is held by the run: status reads the run-state file.
    const statusArgs = ['status', '--project', h.projectDir, '--destination', `duckdb:${file}`];
    const [during, duringJson] = await Promise.all([
      runCliProcess(statusArgs),
      runCliProcess([...statusArgs, '--json']),
    ]);
    expect(run.exited(), 'the run ended before status looked').toBe(false);
    expect(during.code).toBe(0);
    expect(during.stdout).toMatch(/is being loaded by run ki-\S+ \(pid \d+, klaviyo_ingest_hist\.dig\)/);
    expect(during.stdout).toMatch(new RegExp(`  ${TABLE}: [\\d,]+ rows, [\\d,]+ pages`));
    expect(duringJson.code).toBe(0);
    const running = JSON.parse(duringJson.stdout) as {
      table: string;
      state: string;
      progress: { rows: number };
    }[];
    expect(running.map((r) => `${r.table} ${r.state}`)).toEqual([`${TABLE} running`]);
    expect(running[0]?.progress.rows).toBeGreaterThan(0);

    const statePid = readRunState(file)?.pid as number;
    run.child.kill('SIGKILL'); // the launcher; its child dies with it
    await run.done;
    h.sim.clearFaults();
    await waitFor('the ingesting child to die', () => readRunState(file)?.alive === false, 10_000);
    expect(statePid).toBeGreaterThan(0);

    const after = await runCliProcess([
      'status',
      '--project',
      h.projectDir,
      '--destination',
      `duckdb:${file}`,
    ]);
    expect(after.code).toBe(1);
    expect(after.stdout).toMatch(new RegExp(`^${TABLE}\\s+\\d+\\s+INTERRUPTED\\s`, 'm'));
    expect(after.stdout).toContain('never finished (killed); the next run logs it as interrupted');
    const afterJson = await runCliProcess([
      'status',
      '--project',
      h.projectDir,
      '--destination',
      `duckdb:${file}`,
      '--json',
    ]);
    expect(afterJson.code).toBe(1);
    expect((JSON.parse(afterJson.stdout) as { state: string }[]).map((s) => s.state)).toEqual([
      'interrupted',
    ]);

    const rerun = await runCliProcess(runArgs(file), { env: env() });
    expect(rerun.code).toBe(0);
    expect(rerun.stdout).toContain(
      `${TABLE}: its previous run never finished (killed); logged as interrupted`,
    );
    const entries = await log(file);
    expect(entries.map((e) => e.status)).toEqual(['STARTED', 'ERROR', 'STARTED', 'SUCCESS']);
    expect(String(entries[1]?.error_message)).toMatch(/^interrupted: the run that started loading/);
    expect(await rows(file)).toBe(h.sim.count('events'));
    const ok = await runCliProcess(['status', '--project', h.projectDir, '--destination', `duckdb:${file}`]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(new RegExp(`^${TABLE}\\s+${h.sim.count('events')}\\s+SUCCESS\\s`, 'm'));
  }, 120_000);

  it('a schedule stopped by SIGTERM during a run: the run stops cleanly, exit 143, no next run', async () => {
    const file = db('schedule-stop');
    const run = spawnCli([...runArgs(file), '--every', '1h'], { env: env() });
    let stderr = '';
    run.child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString('utf8');
    });
    await waitFor('a committed checkpoint', () => /progress klaviyo_events_hist: .* committed/.test(stderr));
    run.child.kill('SIGTERM');
    const result = await run.done;
    expect(result.code).toBe(143);
    expect(result.stderr).toContain('schedule: every 1h; first run now');
    expect(result.stderr).toContain('Stopped by SIGTERM');
    expect(result.stderr).not.toContain('next run at');
    expect((await log(file)).map((e) => e.status)).toEqual(['STARTED', 'ERROR']);
  }, 120_000);

  it('demo stopped by SIGTERM removes its temp project folder and exits 143', async () => {
    const cwd = tempDir('ki-demo-stop-');
    const run = spawnCli(['demo', '--events', '60000', '--profiles', '100'], {
      cwd,
      env: { KLAVIYO_API_KEY: '', KLAVIYO_BASE_URL: '', KLAVIYO_INGEST_PROGRESS_INTERVAL: '0.2' },
    });
    let stderr = '';
    run.child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString('utf8');
    });
    await waitFor('the demo to start loading', () => /klaviyo_events: loading/.test(stderr));
    const project = /project: +(\S+)/.exec(stderr)?.[1] as string;
    expect(existsSync(project)).toBe(true);
    run.child.kill('SIGTERM');
    const result = await run.done;
    expect(result.code).toBe(143);
    expect(result.stderr).toContain('Stopped by SIGTERM');
    expect(existsSync(path.dirname(project))).toBe(false);
  }, 120_000);
});
