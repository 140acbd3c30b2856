/**
 * The built CLI as a child process against a simulator in this process holding a large account
 * (120k events): SIGKILL at seeded random moments of a `hist` load, each followed by a rerun, and
 * two runs started at once on one DuckDB file. Everything is compared with a clean run.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { spawnCli } from '../support/cli-process.js';
import { useHarness } from '../support/harness.js';
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
  totals,
  violations,
  windowColumns,
} from './support.js';

const EVENTS = 120_000;
const EVENTS_TABLE = 'klaviyo_events_hist';
const KILLS = 10;
const KILL_SEED = 0x5eed_c4a0;

export function processCases(): void {
  describe(`the CLI process on a ${EVENTS / 1000}k-event account (hist)`, () => {
    const h = useHarness({ seed: 42, now: NOW, events: EVENTS, profiles: 2000, latencyMs: 2 }, 180_000);
    let cleanDb: string;
    let tables: string[];
    let windows: Map<string, string | null>;
    let cleanMs = 0;
    let startupMs = 0;
    let cleanRows = 0;
    let cleanEvents = 0;
    let cleanPages = 0;
    let pageMs = 0;
    let tailMs = 0;
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
      // Small checkpoints (once the flags exist), so kills land between several commits of one load.
      ...(checkpoints ? ['--checkpoint-rows', '10000', '--checkpoint-seconds', '2'] : []),
    ];
    const equalAll = () => Object.fromEntries(tables.map((t) => [t, 'equal']));
    const noViolations = { duplicates: 0, gaps: 0, extra: 0, log: [] };

    beforeAll(async () => {
      assertBuilt();
      checkpoints = cliHasCheckpointFlags();
      windows = windowColumns(h.projectDir, 'hist');
      cleanDb = path.join(h.dir, 'clean.duckdb');
      h.sim.clearLog();
      const proc = spawnCli(args(cleanDb), { env: h.env });
      const result = await proc.done;
      totals.runs++;
      expect(result.code, result.stderr + result.stdout).toBe(0);
      cleanMs = result.ms;
      const log = h.sim.requestLog();
      const eventPages = log.filter((e) => e.endpoint === 'events' && e.status === 200);
      const firstAt = log[0]?.startedAt ?? proc.startedAt;
      const lastPageDone = Math.max(...eventPages.map((e) => e.startedAt + e.durationMs));
      startupMs = Math.max(0, firstAt - proc.startedAt);
      cleanPages = eventPages.length;
      pageMs = (lastPageDone - firstAt) / Math.max(1, cleanPages);
      tailMs = Math.max(0, proc.startedAt + cleanMs - lastPageDone);
      tables = await dataTables(cleanDb);
      expect(tables.sort()).toEqual([...windows.keys()].sort());
      const self = await diffTables(cleanDb, cleanDb, tables);
      cleanRows = self.reduce((n, d) => n + d.expectedRows, 0);
      cleanEvents = self.find((d) => d.table === EVENTS_TABLE)?.expectedRows ?? 0;
      expect(cleanRows).toBeGreaterThan(EVENTS * 0.9);
      console.log(
        `clean hist run: ${cleanRows} rows in ${cleanMs} ms (first request after ${startupMs} ms, ` +
          `${cleanPages} events pages, ~${Math.round(pageMs)} ms each, ${tailMs} ms after the last); ` +
          `checkpoint flags ${checkpoints ? 'on (--checkpoint-rows 10000 --checkpoint-seconds 2)' : 'not available'}`,
      );
    }, 180_000);

    /**
     * A kill moment, in terms of the load's progress so it does not depend on the machine's speed: after
     * the k-th events page of this run (k uniform in 0..P, P = pages still to load), plus a random part of
     * the gap to the next step. k = 0 kills during start-up; k = P during the final commit.
     */
    const killMoment = (rng: InstanceType<typeof Rng>, loadedEvents: number) => {
      const left = Math.max(0, 1 - loadedEvents / cleanEvents);
      // Everything loaded already: the rerun only starts up, reads its window and finds nothing new.
      if (left === 0) return { pages: 0, extraMs: Math.round(rng.next() * startupMs), of: 0 };
      const pages = Math.max(1, Math.round(cleanPages * left));
      const k = Math.min(pages, Math.floor(rng.next() * (pages + 1)));
      const gap = k === 0 ? startupMs : k === pages ? 0.8 * tailMs : pageMs;
      return { pages: k, extraMs: Math.round(rng.next() * gap), of: pages };
    };
    const eventsPagesServed = () =>
      h.sim.requestLog().filter((e) => e.endpoint === 'events' && e.status === 200).length;

    it(`SIGKILL at ${KILLS} random moments, a rerun after each, then a rerun to completion: exactly the clean run`, async () => {
      const db = path.join(h.dir, 'killed.duckdb');
      const rng = new Rng(KILL_SEED);
      let loadedEvents = 0;
      let kills = 0;
      const lines: string[] = [];
      // Until KILLS kills have landed (a run that finishes before its moment is not a kill).
      for (let i = 1; kills < KILLS && i <= KILLS + 5; i++) {
        const moment = killMoment(rng, loadedEvents);
        h.sim.clearLog();
        const proc = spawnCli(args(db), { env: h.env });
        totals.runs++;
        while (!proc.exited() && eventsPagesServed() < moment.pages)
          await Promise.race([sleep(15), proc.done]);
        await Promise.race([sleep(moment.extraMs), proc.done]);
        const at = Date.now() - proc.startedAt;
        if (!proc.exited()) proc.child.kill('SIGKILL');
        const result = await proc.done;
        if (result.signal === 'SIGKILL') {
          kills++;
          totals.kills++;
        } else {
          expect(result.code, `run ${i} finished before its kill: ${result.stderr}`).toBe(0);
        }
        const inv = await checkInvariants(cleanDb, db, windows);
        const found = violations(inv);
        totals.rowsDuplicated += found.duplicates + found.extra;
        totals.rowsLost += found.gaps;
        expect(found, `after kill ${i} at ${at} ms`).toEqual(noViolations);
        loadedEvents = inv.rows[EVENTS_TABLE] ?? 0;
        const loaded = Object.values(inv.rows).reduce((a, b) => a + b, 0);
        lines.push(
          `  run ${i}: ${result.signal === 'SIGKILL' ? 'killed' : 'finished'} at ${at} ms ` +
            `(after events page ${moment.pages}/${moment.of} + ${moment.extraMs} ms), ` +
            `${loaded}/${cleanRows} rows committed (${Object.values(inv.checkpointed).reduce((a, b) => a + b, 0)} by checkpoints)${existsSync(`${db}.wal`) ? ', WAL left' : ''}`,
        );
      }
      const last = spawnCli(args(db), { env: h.env });
      totals.runs++;
      const final = await last.done;
      expect(final.code, final.stderr + final.stdout).toBe(0);
      const inv = await checkInvariants(cleanDb, db, windows);
      expect(violations(inv)).toEqual(noViolations);
      await expectSameTables(cleanDb, db, tables, (diffs) => expect(clean(diffs)).toEqual(equalAll()));
      console.log(
        `${kills} of ${KILLS} runs killed by SIGKILL, then a final run (${final.ms} ms):\n${lines.join('\n')}`,
      );
      expect(kills).toBe(KILLS);
    }, 420_000);

    it('two runs started at once on one DuckDB file: the second fails naming the file (or waits); no corruption', async () => {
      const db = path.join(h.dir, 'concurrent.duckdb');
      const a = spawnCli(args(db), { env: h.env });
      const b = spawnCli(args(db), { env: h.env });
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
      const inv = await checkInvariants(cleanDb, db, windows);
      expect(violations(inv)).toEqual(noViolations);
      await expectSameTables(cleanDb, db, tables, (diffs) => expect(clean(diffs)).toEqual(equalAll()));

      // A rerun once the file is free finds nothing new and changes nothing.
      const again = await spawnCli(args(db), { env: h.env }).done;
      totals.runs++;
      expect(again.code, again.stderr).toBe(0);
      await expectSameTables(cleanDb, db, tables, (diffs) => expect(clean(diffs)).toEqual(equalAll()));
    }, 180_000);
  });
}
