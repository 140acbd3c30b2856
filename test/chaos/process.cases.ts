/**
 * The built CLI as a child process against a simulator in this process holding a large account
 * (120k events): SIGKILL at seeded random moments of a `hist` load, each followed by a rerun, and
 * two runs started at once on one destination. Everything is compared with a clean run.
 *
 * Run once per destination: on DuckDB each run has its own file; on PostgreSQL its own schema on the
 * run's server (a copy of the project whose `databases.src` names it), compared in PostgreSQL.
 */
import { cpSync, existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliProcessResult, spawnCli } from '../support/cli-process.js';
import type { DestinationKind } from '../support/destination.js';
import { useHarness } from '../support/harness.js';
import { withPostgres } from '../support/postgres.js';
import { edit } from '../support/project.js';
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
  type Store,
  sleep,
  totalsByKind,
  violations,
  windowColumns,
} from './support.js';

const EVENTS = 120_000;
const EVENTS_TABLE = 'klaviyo_events_hist';
/** SIGKILLs per destination, at random moments: CI runs the whole suite on three destinations within its 20 minutes. */
const KILLS: Record<DestinationKind, number> = { duckdb: 6, postgres: 3, parquet: 3 };
const KILL_SEED = 0x5eed_c4a0;

/** Where one run's tables land: a DuckDB file, or a PostgreSQL schema named by a project of its own. */
interface Target {
  store: Store;
  projectDir: string;
  /** How a run refused for a busy destination names it (the file, or `schema.table`). */
  names: string;
}

export function processCases(kind: DestinationKind = 'duckdb'): void {
  const kills_ = KILLS[kind];
  describe(`the CLI process on a ${EVENTS / 1000}k-event account (hist, ${kind})`, () => {
    const t = totalsByKind[kind];
    // The destination's time: from the clean run (after the harness's beforeAll made the simulator)
    // to the last cleanup. First registered, so this afterAll runs last.
    let started = 0;
    const schemas: string[] = [];
    afterAll(async () => {
      if (schemas.length > 0)
        await withPostgres((c) => c.query(`DROP SCHEMA IF EXISTS ${schemas.join(', ')} CASCADE`));
      if (kind !== 'duckdb') t.ms += Date.now() - started;
    });
    const h = useHarness({ seed: 42, now: NOW, events: EVENTS, profiles: 2000, latencyMs: 2 }, 180_000, kind);
    let cleanTarget: Target;
    let cleanDb: Store;
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
    /** PostgreSQL: the password of the server's URL, which no output of any run may show. */
    let password = '';
    const outputs: string[] = [];

    /** A fresh destination for one run (a DuckDB file, or a PostgreSQL schema and a project naming it). */
    const target = (name: string): Target => {
      if (kind === 'duckdb') {
        const file = path.join(h.dir, `${name}.duckdb`);
        return { store: file, projectDir: h.projectDir, names: file };
      }
      if (kind === 'parquet') {
        const lake = path.join(h.dir, `${name}-lake`);
        return { store: { lake }, projectDir: h.projectDir, names: lake };
      }
      const schema = `${h.schema}_${name}`;
      const projectDir = path.join(h.dir, `ingestion-${name}`);
      cpSync(h.projectDir, projectDir, { recursive: true });
      edit(projectDir, 'config/database.yml', (text) => text.replace(`src: ${h.schema}`, `src: ${schema}`));
      schemas.push(schema);
      return { store: { url: h.destination, schema }, projectDir, names: schema };
    };
    const args = (to: Target) => [
      'run',
      'hist',
      '--project',
      to.projectDir,
      '--destination',
      kind === 'duckdb'
        ? `duckdb:${to.store as string}`
        : kind === 'parquet'
          ? `parquet:${to.names}`
          : h.destination,
      '--end',
      END,
      // Small checkpoints (once the flags exist), so kills land between several commits of one load.
      ...(checkpoints ? ['--checkpoint-rows', '10000', '--checkpoint-seconds', '2'] : []),
    ];
    /** The CLI on `to`, its output kept for the password check. */
    const spawnRun = (to: Target, extra: string[] = [], env: Record<string, string> = {}) => {
      const proc = spawnCli([...args(to), ...extra], { env: { ...h.env, ...env } });
      t.runs++;
      const done = proc.done.then((result: CliProcessResult) => {
        outputs.push(result.stdout, result.stderr);
        return result;
      });
      return { ...proc, done };
    };
    /** PostgreSQL: the server's password appears in no output of the runs so far. */
    const expectNoPassword = () => {
      if (kind !== 'postgres') return;
      expect(password.length).toBeGreaterThan(0);
      const leaks = outputs.filter((o) => o.includes(password) || o.includes(encodeURIComponent(password)));
      expect(leaks, 'the PostgreSQL password in CLI output').toEqual([]);
    };
    const equalAll = () => Object.fromEntries(tables.map((t) => [t, 'equal']));
    const noViolations = { duplicates: 0, gaps: 0, extra: 0, log: [] };

    beforeAll(async () => {
      started = Date.now();
      assertBuilt();
      checkpoints = cliHasCheckpointFlags();
      if (kind === 'postgres') password = decodeURIComponent(new URL(h.destination).password);
      windows = windowColumns(h.projectDir, 'hist');
      cleanTarget = target('clean');
      cleanDb = cleanTarget.store;
      h.sim.clearLog();
      const proc = spawnRun(cleanTarget);
      const result = await proc.done;
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
        `clean hist run (${kind}): ${cleanRows} rows in ${cleanMs} ms (first request after ${startupMs} ms, ` +
          `${cleanPages} events pages, ~${Math.round(pageMs)} ms each, ${tailMs} ms after the last); ` +
          `checkpoint flags ${checkpoints ? 'on (--checkpoint-rows 10000 --checkpoint-seconds 2)' : 'not available'}`,
      );
      expectNoPassword();
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

    it(`SIGKILL at ${kills_} random moments, a rerun after each, then a rerun to completion: exactly the clean run`, async () => {
      const to = target('killed');
      const db = to.store;
      const rng = new Rng(KILL_SEED);
      let loadedEvents = 0;
      let kills = 0;
      const lines: string[] = [];
      // Until the kills have landed (a run that finishes before its moment is not a kill).
      for (let i = 1; kills < kills_ && i <= kills_ + 5; i++) {
        const moment = killMoment(rng, loadedEvents);
        h.sim.clearLog();
        const proc = spawnRun(to);
        while (!proc.exited() && eventsPagesServed() < moment.pages)
          await Promise.race([sleep(15), proc.done]);
        await Promise.race([sleep(moment.extraMs), proc.done]);
        const at = Date.now() - proc.startedAt;
        if (!proc.exited()) proc.child.kill('SIGKILL');
        const result = await proc.done;
        if (result.signal === 'SIGKILL') {
          kills++;
          t.kills++;
        } else {
          expect(result.code, `run ${i} finished before its kill: ${result.stderr}`).toBe(0);
        }
        const inv = await checkInvariants(cleanDb, db, windows);
        const found = violations(inv);
        t.rowsDuplicated += found.duplicates + found.extra;
        t.rowsLost += found.gaps;
        expect(found, `after kill ${i} at ${at} ms`).toEqual(noViolations);
        loadedEvents = inv.rows[EVENTS_TABLE] ?? 0;
        const loaded = Object.values(inv.rows).reduce((a, b) => a + b, 0);
        const wal = typeof db === 'string' && existsSync(`${db}.wal`);
        lines.push(
          `  run ${i}: ${result.signal === 'SIGKILL' ? 'killed' : 'finished'} at ${at} ms ` +
            `(after events page ${moment.pages}/${moment.of} + ${moment.extraMs} ms), ` +
            `${loaded}/${cleanRows} rows committed (${Object.values(inv.checkpointed).reduce((a, b) => a + b, 0)} by checkpoints)${wal ? ', WAL left' : ''}`,
        );
      }
      const final = await spawnRun(to).done;
      expect(final.code, final.stderr + final.stdout).toBe(0);
      const inv = await checkInvariants(cleanDb, db, windows);
      expect(violations(inv)).toEqual(noViolations);
      await expectSameTables(cleanDb, db, tables, (diffs) => expect(clean(diffs)).toEqual(equalAll()));
      console.log(
        `${kind}: ${kills} of ${kills_} runs killed by SIGKILL, then a final run (${final.ms} ms):\n${lines.join('\n')}`,
      );
      expect(kills).toBe(kills_);
      expectNoPassword();
    }, 420_000);

    it(`two runs started at once on one ${kind === 'duckdb' ? 'DuckDB file' : kind === 'parquet' ? 'Parquet dataset' : 'PostgreSQL schema'}: the second fails naming it (or waits); no corruption`, async () => {
      const to = target('concurrent');
      const db = to.store;
      const a = spawnRun(to);
      const b = spawnRun(to);
      const results = await Promise.all([a.done, b.done]);
      const succeeded = results.filter((r) => r.code === 0);
      const failed = results.filter((r) => r.code !== 0);
      expect(
        succeeded.length,
        results.map((r) => `exit ${r.code}: ${r.stderr.slice(-400)}`).join('\n'),
      ).toBeGreaterThanOrEqual(1);
      for (const r of failed) {
        expect(r.signal).toBeNull();
        if (kind === 'duckdb') {
          expect(r.stderr).toMatch(/in use|already running/);
          expect(r.stderr).toContain(to.names);
        } else if (kind === 'parquet') {
          // The schema folder's run lock: DESTINATION_LOCKED, naming the dataset folder.
          const output = `exit ${r.code}\n${r.stdout}\n${r.stderr}`;
          expect(output).toMatch(/DESTINATION_LOCKED|being loaded by another klaviyo-ingest run/);
          expect(output).toContain(to.names);
        } else {
          // The advisory lock of (schema, table): DESTINATION_LOCKED, naming `schema.table`.
          const output = `exit ${r.code}\n${r.stdout}\n${r.stderr}`;
          expect(output).toMatch(/DESTINATION_LOCKED|being loaded by another klaviyo-ingest run/);
          expect(
            tables.filter((table) => output.includes(`${to.names}.${table}`)),
            output,
          ).not.toEqual([]);
        }
      }
      const refusal = (r: CliProcessResult) =>
        `${r.stdout}\n${r.stderr}`
          .split('\n')
          .find((line) => /DESTINATION_LOCKED|being loaded by another|in use|already running/.test(line))
          ?.trim() ?? r.stderr.trim().split('\n')[0];
      console.log(
        `concurrent runs (${kind}): ${succeeded.length} succeeded, ${failed.length} refused` +
          (failed[0] ? ` ("${refusal(failed[0])}")` : ''),
      );
      const inv = await checkInvariants(cleanDb, db, windows);
      expect(violations(inv)).toEqual(noViolations);
      await expectSameTables(cleanDb, db, tables, (diffs) => expect(clean(diffs)).toEqual(equalAll()));

      // A rerun once the destination is free finds nothing new and changes nothing.
      const again = await spawnRun(to).done;
      expect(again.code, again.stderr).toBe(0);
      await expectSameTables(cleanDb, db, tables, (diffs) => expect(clean(diffs)).toEqual(equalAll()));
      expectNoPassword();
    }, 180_000);

    // PostgreSQL only: its URL holds a password (DuckDB has none).
    if (kind === 'postgres')
      it('the password appears in no output of any run (also --verbose, destination from KLAVIYO_INGEST_DESTINATION)', async () => {
        // A rerun on the clean run's schema: nothing new to load, and nothing changes.
        const to = cleanTarget;
        const run = spawnCli(['run', 'hist', '--project', to.projectDir, '--end', END, '--verbose'], {
          env: { ...h.env, KLAVIYO_INGEST_DESTINATION: h.destination },
        });
        t.runs++;
        const result = await run.done;
        outputs.push(result.stdout, result.stderr);
        expect(result.code, result.stderr).toBe(0);
        await expectSameTables(cleanDb, to.store, tables, (diffs) =>
          expect(clean(diffs)).toEqual(equalAll()),
        );
        console.log(`${outputs.length / 2} PostgreSQL runs, none of their output shows the password`);
        expectNoPassword();
      }, 60_000);
  });
}
