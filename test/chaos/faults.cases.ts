/**
 * One fault kind per test, injected by the simulator into a small but paged account (several pages
 * per stream), the `inc` workflow run in process over real HTTP. Each run's tables are compared with
 * a clean, fault-free run of the same data (row multisets without `time`).
 */
import { copyFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { formatTemplateTime } from '../../src/util/timestamps.js';
import { type RunProjectInput, runProject } from '../../src/workflow/run-project.js';
import type { RunReport } from '../../src/workflow/types.js';
import { clockFrom } from '../support/clocks.js';
import { queryDuckDB } from '../support/destination.js';
import { useHarness } from '../support/harness.js';
import {
  clean,
  dataTables,
  diffTables,
  END,
  expectSameTables,
  faultsInLog,
  NOW,
  SCHEMA,
  sleep,
  totals,
} from './support.js';

const DAY = 86_400_000;

interface FaultCase {
  name: string;
  /** Simulator fault spec (src/simulator/http/faults.ts). */
  faults: string;
  /** Exactly this many faults fire (deterministic `at=` rules); otherwise at least one. */
  exactly?: number;
  timeoutMs?: number;
  /** Each source finishes faster than this (proves a timeout cut a slow response short). */
  maxSourceMs?: number;
}

/** The longest `slow` delay of a spec: the simulator logs a slow request only once it answers. */
function slowMs(spec: string): number {
  return Math.max(0, ...[...spec.matchAll(/slow[^,]*:ms=(\d+)/g)].map((m) => Number(m[1])));
}

const CASES: FaultCase[] = [
  // Retry-After: 1 on every 429; the whole rate-limit bucket pauses, then the request is retried.
  { name: '429 storm with Retry-After', faults: '429@*:p=0.5:n=14:retry-after=1' },
  // No Retry-After header: the body's "Expected available in 1 second" (or backoff) decides the wait.
  { name: '429 storm without Retry-After', faults: '429-no-retry-after@*:p=0.5:n=14:retry-after=1' },
  {
    name: '500 and 503 bursts (three in a row on one page, mid-stream)',
    faults: '500@events:at=2+3+4, 503@profiles:at=2+3+4, 503@campaigns:at=1+2, 500@templates:at=1',
    exactly: 9,
  },
  {
    name: 'connection reset in the middle of the body',
    faults: 'reset@events:at=2+4, reset@profiles:at=2, reset@campaigns:at=1, reset@lists:at=1',
    exactly: 5,
  },
  {
    name: 'truncated JSON body',
    faults: 'truncate@events:at=2+3, truncate@profiles:at=3, truncate@templates:at=1, truncate@metrics:at=1',
    exactly: 5,
  },
  {
    name: 'a response slower than the client timeout',
    faults: 'slow@events:at=2:ms=6000, slow@profiles:at=2:ms=6000',
    exactly: 2,
    timeoutMs: 1500,
    // The client gave up after 1.5 s and retried: the sources did not wait for the 6 s answers.
    maxSourceMs: 5000,
  },
  {
    name: 'everything at once (5xx, 429, resets, truncation, slow responses at random)',
    faults:
      '503@*:p=0.1:n=4, 429@*:p=0.1:n=4:retry-after=1, reset@*:p=0.08:n=3, truncate@*:p=0.08:n=3, slow@*:p=0.05:n=2:ms=3000',
    timeoutMs: 1500,
  },
];

export function faultCases(): void {
  describe('faults against a small paged account (inc, in process, real HTTP)', () => {
    const h = useHarness({ seed: 21, now: NOW, events: 5000, profiles: 400 });
    let cleanDb: string;
    let tables: string[];

    const run = async (db: string, extra: Partial<RunProjectInput> = {}): Promise<RunReport> => {
      totals.runs++;
      return runProject({
        projectDir: h.projectDir,
        workflow: 'inc',
        destination: `duckdb:${db}`,
        env: h.env,
        clock: clockFrom(NOW),
        end: END,
        ...extra,
      });
    };
    const statuses = (report: RunReport) =>
      Object.fromEntries(report.sources.map((s) => [s.name, `${s.status}${s.error ? `: ${s.error}` : ''}`]));
    const allOk = (report: RunReport) => Object.fromEntries(report.sources.map((s) => [s.name, 'SUCCESS']));
    const withFaults = (spec: string) => {
      h.sim.clearFaults();
      h.sim.clearLog();
      h.sim.addFault(spec);
    };
    const countFaults = () => {
      const n = faultsInLog(h.sim);
      totals.faultsInjected += n;
      return n;
    };

    beforeAll(async () => {
      cleanDb = path.join(h.dir, 'clean.duckdb');
      const report = await run(cleanDb);
      expect(statuses(report)).toEqual(allOk(report));
      // Paged: several pages on the big streams, so faults can hit a cursor page mid-stream.
      const pages = Object.fromEntries(report.sources.map((s) => [s.name, s.pages]));
      expect(pages.events).toBeGreaterThanOrEqual(3);
      expect(pages.profiles).toBeGreaterThanOrEqual(3);
      tables = await dataTables(cleanDb);
      expect(tables).toHaveLength(6);
    });

    for (const c of CASES) {
      it(`${c.name}: the run succeeds with the clean run's rows`, async () => {
        withFaults(c.faults);
        const db = path.join(h.dir, `${c.name.replace(/\W+/g, '-')}.duckdb`);
        const report = await run(db, c.timeoutMs ? { timeoutMs: c.timeoutMs } : {});
        // The simulator logs a slow request only once it answers, after the client gave up on it: wait
        // for those answers, so they are counted here and do not spill into the next case.
        const slow = slowMs(c.faults);
        const deadline = Date.now() + slow + 500;
        while (slow > 0 && Date.now() < deadline) {
          if (c.exactly !== undefined && faultsInLog(h.sim) >= c.exactly) break;
          await sleep(100);
        }
        const fired = countFaults();
        h.sim.clearFaults();
        expect(statuses(report)).toEqual(allOk(report));
        if (c.maxSourceMs !== undefined) {
          for (const s of report.sources) expect(s.durationMs, s.name).toBeLessThan(c.maxSourceMs);
        }
        if (c.exactly !== undefined) expect(fired).toBe(c.exactly);
        else expect(fired).toBeGreaterThan(0);
        await expectSameTables(cleanDb, db, tables, (diffs) => {
          expect(clean(diffs)).toEqual(Object.fromEntries(tables.map((t) => [t, 'equal'])));
        });
      });
    }

    it('an HTML 403 page fails that source with a clear message, leaves its table as it was, and the others load', async () => {
      const db = path.join(h.dir, 'html403.duckdb');
      // The table's pre-run state: an earlier, successful profiles load.
      h.sim.clearFaults();
      const first = await run(db, { sources: ['profiles'], end: formatTemplateTime(NOW - 14 * DAY) });
      expect(statuses(first)).toEqual({ profiles: 'SUCCESS' });
      const before = path.join(h.dir, 'html403-before.duckdb');
      copyFileSync(db, before);
      if (existsSync(`${db}.wal`)) copyFileSync(`${db}.wal`, `${before}.wal`);
      const [preRows] = await queryDuckDB(before, `SELECT count(*) AS n FROM ${SCHEMA}.klaviyo_profiles`);
      expect(Number(preRows?.n)).toBeGreaterThan(0);

      withFaults('html403@profiles');
      const report = await run(db);
      expect(countFaults()).toBe(1);
      h.sim.clearFaults();

      expect(report.ok).toBe(false);
      const profiles = report.sources.find((s) => s.name === 'profiles');
      expect(profiles?.status).toBe('ERROR');
      expect(profiles?.error).toMatch(/403/);
      expect(profiles?.error).toMatch(/HTML page/);
      expect(profiles?.error).toMatch(/Cloudflare/);
      for (const s of report.sources.filter((x) => x.name !== 'profiles')) {
        expect(`${s.name}: ${s.status} ${s.error ?? ''}`).toBe(`${s.name}: SUCCESS `);
      }
      // The failed table is exactly as before (time included); the others equal the clean run.
      const unchanged = await diffTables(before, db, ['klaviyo_profiles'], { includeTime: true });
      expect(clean(unchanged)).toEqual({ klaviyo_profiles: 'equal' });
      const others = tables.filter((t) => t !== 'klaviyo_profiles');
      await expectSameTables(cleanDb, db, others, (diffs) => {
        expect(clean(diffs)).toEqual(Object.fromEntries(others.map((t) => [t, 'equal'])));
      });
      // The log: an ERROR row naming the source and the cause, and no second SUCCESS row for profiles.
      const log = await queryDuckDB(
        db,
        `SELECT status, error_message FROM ${SCHEMA}.ingestion_log WHERE table_name = 'klaviyo_profiles' ORDER BY time, status`,
      );
      expect(log.filter((r) => r.status === 'SUCCESS')).toHaveLength(1);
      const errors = log.filter((r) => r.status === 'ERROR');
      expect(errors).toHaveLength(1);
      expect(String(errors[0]?.error_message)).toMatch(
        /profiles \(klaviyo_profiles\) failed: .*403.*HTML page/,
      );
    });

    it('an expired cursor mid-stream: the stream restarts from its window start and loads exactly once', async () => {
      // The first cursor page of events and of profiles answers 400 "Invalid cursor provided"; the client
      // raises KLAVIYO_CURSOR_EXPIRED. The runner should restart that stream from the beginning of its
      // window; the (id, window value) dedupe makes the rows already read harmless.
      withFaults('expire-cursor@events, expire-cursor@profiles');
      const db = path.join(h.dir, 'expire-cursor.duckdb');
      const report = await run(db);
      expect(countFaults()).toBe(2);
      h.sim.clearFaults();
      expect(statuses(report)).toEqual(allOk(report));
      await expectSameTables(cleanDb, db, tables, (diffs) => {
        expect(clean(diffs)).toEqual(Object.fromEntries(tables.map((t) => [t, 'equal'])));
      });
    });
  });
}
