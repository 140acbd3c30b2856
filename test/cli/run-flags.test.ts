import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli-in-process.js';
import { useHarness } from '../support/harness.js';

const NOW = Date.UTC(2025, 9, 15, 12, 0, 0);

describe('klaviyo-ingest run flags', () => {
  const h = useHarness({ seed: 6, now: NOW, events: 3000, profiles: 50 });

  it('--checkpoint-rows, --checkpoint-seconds and --concurrency reach the runner; bad values are usage errors', async () => {
    const ok = await runCli(
      [
        'run',
        'inc',
        '--project',
        h.projectDir,
        '--destination',
        `duckdb:${h.dbPath}`,
        '--sources',
        'events',
        '--checkpoint-rows',
        '500',
        '--checkpoint-seconds',
        '5',
        '--concurrency',
        '1',
        '--json',
      ],
      h.env,
    );
    expect(ok.code).toBe(0);
    const report = JSON.parse(ok.stdout) as { sources: { slices: number; records: number }[] };
    // One request in flight: the window is never shared, so it stays one slice.
    expect(report.sources[0]?.slices).toBe(1);
    expect(Math.max(...h.sim.requestLog().map((r) => r.inFlightAtStart))).toBe(0);
    const bad = await runCli(['run', 'inc', '--project', h.projectDir, '--checkpoint-rows', 'many'], h.env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--checkpoint-rows must be a positive whole number, got 'many'");
  });
});
