/**
 * PostgreSQL for tests: the run's server (started by ./postgres-global-setup.ts) and fresh schemas on it.
 *
 *   const s = await freshSchema('dest');   // inside a test: dropped when the test ends
 *   await s.client.query('CREATE TABLE t (id int)');   // search_path is the new schema
 *
 * Made outside a test (e.g. in `beforeAll`), a schema stays until its `drop()` (e.g. in `afterAll`).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject, onTestFinished } from 'vitest';

/** The run's server: `postgres://user:password@127.0.0.1:port/db` (password-authenticated). */
export function postgresUrl(): string {
  const url = inject('postgresUrl');
  if (!url) {
    throw new Error(
      'no PostgreSQL server for this test: the project must list test/support/postgres-global-setup.ts in globalSetup',
    );
  }
  return url;
}

/** A connected client on the run's server; `end()` it, or use `withPostgres`. */
export async function connectPostgres(url = postgresUrl()): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  await client.connect();
  return client;
}

/** Runs `fn` with a connected client and ends the client afterwards. */
export async function withPostgres<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = await connectPostgres();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export interface FreshSchema {
  /** The schema's name: `<prefix>_<random>`, lower case, needs no quoting. */
  name: string;
  /** A client whose search_path is this schema (ended by `drop`). */
  client: pg.Client;
  /** The server's URL (connect more clients to it; qualify names with `name`). */
  url: string;
  /** Drops the schema (CASCADE) and ends `client`; safe to call twice. */
  drop(): Promise<void>;
}

/**
 * An empty, uniquely named schema on the run's server and a client using it. Made inside a test, it is
 * dropped when that test finishes; otherwise call `drop()`.
 */
export async function freshSchema(prefix = 'ki'): Promise<FreshSchema> {
  if (!/^[a-z_][a-z0-9_]{0,39}$/.test(prefix)) {
    throw new Error(
      `freshSchema: prefix ${JSON.stringify(prefix)} must be [a-z_][a-z0-9_]*, at most 40 chars`,
    );
  }
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const url = postgresUrl();
  const client = await connectPostgres(url);
  // A connection the server ends (a test may do that on purpose) must not crash the worker; its queries fail.
  client.on('error', () => undefined);
  try {
    await client.query(`CREATE SCHEMA ${name}`);
    await client.query(`SET search_path TO ${name}`);
  } catch (err) {
    await client.end();
    throw err;
  }
  let dropped = false;
  const schema: FreshSchema = {
    name,
    client,
    url,
    async drop() {
      if (dropped) return;
      dropped = true;
      const sql = `DROP SCHEMA IF EXISTS ${name} CASCADE`;
      try {
        await client.query(sql);
      } catch {
        // The test may have broken this connection: drop over a new one.
        await withPostgres((other) => other.query(sql));
      } finally {
        await client.end().catch(() => undefined);
      }
    },
  };
  try {
    onTestFinished(() => schema.drop());
  } catch {
    // Not inside a test: the caller drops it.
  }
  return schema;
}
