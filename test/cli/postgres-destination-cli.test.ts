import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli-in-process.js';
import { useHarness } from '../support/harness.js';
import { postgresUrl } from '../support/postgres.js';

const NOW = Date.UTC(2025, 9, 15, 12, 0, 0);

describe('run and status on PostgreSQL from the command line', () => {
  const h = useHarness({ seed: 3, now: NOW, events: 1200, profiles: 80 }, undefined, 'postgres');

  it('takes the URL from KLAVIYO_INGEST_DESTINATION, loads all six sources, and never prints the password', async () => {
    const url = postgresUrl();
    const password = decodeURIComponent(new URL(url).password);
    expect(password.length).toBeGreaterThan(3);
    const env = { ...h.env, KLAVIYO_INGEST_DESTINATION: url };

    const run = await runCli(['run', 'inc', '--project', h.projectDir], env);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/6 of 6 sources ok/);
    const status = await runCli(['status', '--project', h.projectDir], env);
    expect(status.code, status.stderr).toBe(0);
    const events = status.stdout.split('\n').find((line) => line.startsWith('klaviyo_events '));
    expect(events).toMatch(/^klaviyo_events\s+\d+\s+SUCCESS\s/);
    for (const output of [run.stdout, run.stderr, status.stdout, status.stderr]) {
      expect(output).not.toContain(password);
    }

    // --destination wins over the variable: a wrong password fails to connect, naming the URL without it.
    const wrong = new URL(url);
    wrong.password = 'not-the-password-4711';
    const refused = await runCli(
      ['status', '--project', h.projectDir, '--destination', wrong.toString()],
      env,
    );
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/DESTINATION_CONNECT|password authentication failed/);
    expect(refused.stderr).not.toContain('not-the-password-4711');
    expect(refused.stderr).not.toContain(password);
  });
});

describe('status on PostgreSQL while a run is loading', () => {
  const h = useHarness(
    { seed: 4, now: NOW, events: 20_000, profiles: 50, latencyMs: 40 },
    undefined,
    'postgres',
  );

  it('reads the ingestion log without waiting for the run (MVCC, no file lock)', async () => {
    const env = { ...h.env, KLAVIYO_INGEST_DESTINATION: postgresUrl() };
    const running = h.run({ sources: ['events'] });
    let finished = false;
    void running.then(() => {
      finished = true;
    });
    // Wait until the load is under way: its STARTED row is committed and pages are being read.
    const deadline = Date.now() + 20_000;
    while (h.sim.requestLog().filter((r) => r.endpoint === 'events').length < 3 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 20));
    const status = await runCli(['status', '--project', h.projectDir], env);
    // It answered while the run was still loading, not after it.
    const answeredDuringRun = !finished;
    const report = await running;
    expect(answeredDuringRun).toBe(true);
    expect(status.code, status.stderr).toBe(0);
    // STARTED last, and this run holds the schema's lock: shown as running, not interrupted.
    expect(status.stdout).toMatch(/^klaviyo_events\s+.*RUNNING/m);
    expect(report.ok).toBe(true);
  });
});
