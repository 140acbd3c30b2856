/**
 * The built CLI as a child process against a simulator in this process holding a large account
 * (200k events): SIGKILL at seeded random moments of a `hist` load, each followed by a rerun, and
 * two runs started at once on one DuckDB file. Everything is compared with a clean run.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from '../support/harness.js';
import {
  assertBuilt,
  checkInvariants,
  clean,
  cliHasCheckpointFlags,
  dataTables,
  diffTables,
  END,
  expectSameTables,
  NOW,
  Rng,
  sleep,
  spawnCli,
  totals,
  violations,
  windowColumns,
} from './support.js';

const EVENTS = 200_000;
const KILLS = 10;
const KILL_SEED = 0x5eed_c4a0;

export function processCases(): void {
  describe(`the CLI process on a ${EVENTS / 1000}k-event account (hist)`, () => {
    let h: Harness;
    let cleanDb: string;
    let tables: string[];
    let windows: Map<string, string | null>;
    let cleanMs = 0;
    let startupMs = 0;
    let cleanRows = 0;
    let checkpoints = false;

    const args = (db: string) => [
      'run',
      'hist',
      '--project',
      h.projectDir,
      '--destination',
      `duckdb:${db}`,
      '--end',
      END,
      ...(checkpoints ? ['--checkpoint-rows', '25000'] : []),
    ];
    const equalAll = () => Object.fromEntries(tables.map((t) => [t, 'equal']));
    const noViolations = { duplicates: 0, gaps: 0, extra: 0, log: [] };

    beforeAll(async () => {
      assertBuilt();
      checkpoints = cliHasCheckpointFlags();
      h = await createHarness({ seed: 42, now: NOW, events: EVENTS, profiles: 2000, latencyMs: 2 });
      windows = windowColumns(h.projectDir, 'hist');
      cleanDb = path.join(h.dir, 'clean.duckdb');
      h.sim.clearLog();
      const proc = spawnCli(args(cleanDb), h.env);
      const result = await proc.done;
      totals.runs++;
      expect(result.code, result.stderr + result.stdout).toBe(0);
      cleanMs = result.ms;
      startupMs = Math.max(0, (h.sim.requestLog()[0]?.startedAt ?? proc.startedAt) - proc.startedAt);
      tables = await dataTables(cleanDb);
      expect(tables.sort()).toEqual([...windows.keys()].sort());
      const self = await diffTables(cleanDb, cleanDb, tables);
      cleanRows = self.reduce((n, d) => n + d.expectedRows, 0);
      expect(cleanRows).toBeGreaterThan(EVENTS * 0.9);
      console.log(
        `clean hist run: ${cleanRows} rows in ${cleanMs} ms (first request after ${startupMs} ms); ` +
          `checkpoint flags ${checkpoints ? 'on (--checkpoint-rows 25000)' : 'not available'}`,
      );
    }, 180_000);
    afterAll(async () => h?.cleanup());

    it(`SIGKILL at ${KILLS} random moments, a rerun after each, then a rerun to completion: exactly the clean run`, async () => {
      const db = path.join(h.dir, 'killed.duckdb');
      const rng = new Rng(KILL_SEED);
      let loaded = 0;
      let kills = 0;
      const lines: string[] = [];
      for (let i = 1; i <= KILLS; i++) {
        // A moment inside what is left of the load: the load shrinks once checkpoints commit progress.
        const remaining = Math.max(0, 1 - loaded / cleanRows);
        const at = Math.round(startupMs + (0.03 + 0.94 * rng.next()) * remaining * (cleanMs - startupMs));
        const proc = spawnCli(args(db), h.env);
        totals.runs++;
        await Promise.race([sleep(at), proc.done]);
        if (!proc.exited()) proc.child.kill('SIGKILL');
        const result = await proc.done;
        if (result.signal === 'SIGKILL') {
          kills++;
          totals.kills++;
        } else {
          expect(result.code, `run ${i} finished before its kill: ${result.stderr}`).toBe(0);
        }
        const inv = await checkInvariants(cleanDb, db, windows, { checkpoints });
        expect(violations(inv), `after kill ${i} at ${at} ms`).toEqual(noViolations);
        totals.rowsDuplicated += violations(inv).duplicates + violations(inv).extra;
        totals.rowsLost += violations(inv).gaps;
        loaded = Object.values(inv.rows).reduce((a, b) => a + b, 0);
        lines.push(
          `  run ${i}: ${result.signal === 'SIGKILL' ? `killed at ${at} ms` : `finished in ${result.ms} ms before the kill at ${at} ms`}, ` +
            `${loaded}/${cleanRows} rows committed${existsSync(`${db}.wal`) ? ', WAL left' : ''}`,
        );
      }
      const last = spawnCli(args(db), h.env);
      totals.runs++;
      const final = await last.done;
      expect(final.code, final.stderr + final.stdout).toBe(0);
      const inv = await checkInvariants(cleanDb, db, windows, { checkpoints });
      expect(violations(inv)).toEqual(noViolations);
      await expectSameTables(cleanDb, db, tables, (diffs) => expect(clean(diffs)).toEqual(equalAll()));
      console.log(
        `${kills} of ${KILLS} runs killed by SIGKILL mid-load, then a final run (${final.ms} ms):\n${lines.join('\n')}`,
      );
      expect(kills).toBeGreaterThanOrEqual(KILLS / 2);
    }, 420_000);

    it('two runs started at once on one DuckDB file: the second fails naming the file (or waits); no corruption', async () => {
      const db = path.join(h.dir, 'concurrent.duckdb');
      const a = spawnCli(args(db), h.env);
      const b = spawnCli(args(db), h.env);
      const results = await Promise.all([a.done, b.done]);
      totals.runs += 2;
      const succeeded = results.filter((r) => r.code === 0);
      const failed = results.filter((r) => r.code !== 0);
      expect(
        succeeded.length,
        results.map((r) => `exit ${r.code}: ${r.stderr.slice(-400)}`).join('\n'),
      ).toBeGreaterThanOrEqual(1);
      for (const r of failed) {
        expect(r.signal).toBeNull();
        expect(r.stderr).toMatch(/in use|already running/);
        expect(r.stderr).toContain(db);
      }
      console.log(
        `concurrent runs: ${succeeded.length} succeeded, ${failed.length} refused` +
          (failed[0] ? ` ("${failed[0].stderr.trim().split('\n')[0]}")` : ''),
      );
      const inv = await checkInvariants(cleanDb, db, windows, { checkpoints });
      expect(violations(inv)).toEqual(noViolations);
      await expectSameTables(cleanDb, db, tables, (diffs) => expect(clean(diffs)).toEqual(equalAll()));

      // A rerun once the file is free finds nothing new and changes nothing.
      const again = await spawnCli(args(db), h.env).done;
      totals.runs++;
      expect(again.code, again.stderr).toBe(0);
      await expectSameTables(cleanDb, db, tables, (diffs) => expect(clean(diffs)).toEqual(equalAll()));
    }, 180_000);
  });
}
