/**
 * The PostgreSQL destination: a small pool for setup and reads, a pool of connections for load
 * sessions (each session holds one for its life: its stage is a TEMP table of that connection), and
 * one connection holding this run's advisory lock on each schema it loads, so two runs never load the
 * same schema at once. Commits run in their session's own transaction; commits of one table are
 * serialized in this process so the dedupe of one sees the rows of the other.
 */

import type { ClientBase, CustomTypesConfig, PoolClient } from 'pg';
import pg from 'pg';
import { IngestError, ingestionError } from '../../util/errors.js';
import { Mutex } from '../../util/mutex.js';
import { redact, registerSecret } from '../../util/redact.js';
import type {
  ColumnSpec,
  Destination,
  IngestionLogRow,
  LoadTarget,
  TableStatus,
  UnfinishedLoad,
} from '../destination.js';
import {
  foldIdentifier,
  qualifiedName,
  quoteIdentifier,
  validateIdentifier,
  validateLoadTarget,
} from '../identifiers.js';
import { INGESTION_LOG_TABLE, toUnfinishedLoads, unfinishedLoadsSql } from '../ingestion-log.js';
import { newStageName, STAGE_PREFIX, stageTarget } from '../stage-names.js';
import { type CommitHooks, type SessionHost, StagedLoadSession } from '../staged-load.js';
import { inTransaction } from '../transaction.js';
import { createLogTableSql, insertLogRows, listTables, readTableColumns } from './postgres-catalog.js';
import {
  isConnectionFailure,
  isConnectionLost,
  isCreateRace,
  pgErrorDetail,
  prepareConnection,
  safeTimestamp,
} from './postgres-sql.js';
import { PostgresStaging } from './postgres-staging.js';
import { postgresType } from './postgres-types.js';
import { readTableStatus } from './table-status.js';

export interface PostgresDestinationOptions {
  /** Fault injection for tests of atomicity; never set in production. */
  hooks?: CommitHooks;
  /** How long a load waits for another run's lock on its schema before failing (default 10 s). */
  lockWaitMs?: number;
  /** Connections for load sessions at once (default 32; each open session holds one). */
  maxSessions?: number;
}

const DEFAULT_LOCK_WAIT_MS = 10_000;
const LOCK_POLL_MS = 200;
const ADMIN_CONNECTIONS = 4;
const DEFAULT_MAX_SESSIONS = 32;

/** BIGINT as bigint and JSON as its text, as the DuckDB destination returns them. */
const TYPES: CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === 20) return (text: string) => BigInt(text);
    if (oid === 114 || oid === 3802) return (text: string) => text;
    return pg.types.getTypeParser(oid, format ?? 'text');
  }) as CustomTypesConfig['getTypeParser'],
};

export interface PostgresLocation {
  /** `postgres://user@host:port/db`: no password, no query parameters. */
  description: string;
  /** The password(s) in the URL, to be redacted everywhere. */
  secrets: string[];
}

/** Reads a `postgres://` / `postgresql://` URL without connecting; never echoes the URL. */
export function describePostgresUrl(url: string): PostgresLocation {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw ingestionError(
      'the PostgreSQL destination URL cannot be parsed (its text is not shown: it may hold a password)',
      {
        code: 'DESTINATION_URL',
        fix: 'use postgres://user[:password]@host[:port]/database[?sslmode=...], with special characters percent-encoded',
      },
    );
  }
  const secrets: string[] = [];
  const addSecret = (secret: string | null) => {
    if (!secret) return;
    secrets.push(secret);
    try {
      secrets.push(decodeURIComponent(secret));
    } catch {
      // Not percent-encoded.
    }
  };
  addSecret(parsed.password);
  addSecret(parsed.searchParams.get('password'));
  const user = parsed.username === '' ? '' : `${parsed.username}@`;
  return { description: `${parsed.protocol}//${user}${parsed.host}${parsed.pathname}`, secrets };
}

/** Opens a pool on `url` and checks that it connects. */
export async function openPostgresDestination(
  url: string,
  options: PostgresDestinationOptions = {},
): Promise<PostgresDestination> {
  const location = describePostgresUrl(url);
  for (const secret of location.secrets) registerSecret(secret);
  // pg falls back to PGPASSWORD when the URL has no password: it is as secret as one in the URL.
  registerSecret(process.env.PGPASSWORD);
  const config: pg.PoolConfig = { connectionString: url, types: TYPES, application_name: 'klaviyo-ingest' };
  const destination = new PostgresDestination(location.description, config, options);
  try {
    await destination.read('opening the destination', async (c) => c.query('SELECT 1'));
  } catch (error) {
    await destination.close().catch(() => undefined);
    throw error;
  }
  return destination;
}

export class PostgresDestination implements Destination {
  readonly hooks: CommitHooks;
  private readonly admin: pg.Pool;
  private readonly sessionPool: pg.Pool;
  private readonly lockWaitMs: number;
  private readonly sessions = new Set<StagedLoadSession>();
  /** Targets whose schema exists, whose table is locked for this run and whose stale stages are gone. */
  private readonly preparedTargets = new Map<string, Promise<void>>();
  /** One commit at a time per table. */
  private readonly commitLocks = new Map<string, Mutex>();
  /** The connection holding this run's advisory locks (session-level: kept until close). */
  private lockClient: Promise<pg.Client> | null = null;
  /**
   * Bumped when the lock connection is lost (terminated, the server restarted): its locks went with
   * it. Sessions opened under an older generation cannot commit (another run may have taken the table
   * since); the next openLoad takes the lock again on a new connection.
   */
  private lockGeneration = 0;
  /** Why the last lock connection was lost, for the messages of the sessions it fails. */
  private lockLostCause: unknown = null;
  private readonly lockMutex = new Mutex();
  private closed = false;

  constructor(
    readonly description: string,
    private readonly config: pg.PoolConfig,
    options: PostgresDestinationOptions,
  ) {
    this.hooks = options.hooks ?? {};
    this.lockWaitMs = options.lockWaitMs ?? DEFAULT_LOCK_WAIT_MS;
    this.admin = new pg.Pool({ ...config, max: ADMIN_CONNECTIONS });
    this.sessionPool = new pg.Pool({ ...config, max: options.maxSessions ?? DEFAULT_MAX_SESSIONS });
    // An idle connection the server drops must not crash the process; the next query reports it.
    this.admin.on('error', () => undefined);
    this.sessionPool.on('error', () => undefined);
  }

  async ensureSchema(schema: string): Promise<void> {
    validateIdentifier(schema, 'schema name');
    await this.write(`schema ${schema}`, (c) =>
      createIfMissing(c, `CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(schema)}`),
    );
  }

  async createTableIfMissing(schema: string, table: string, columns: ColumnSpec[]): Promise<void> {
    const name = qualifiedName(schema, table);
    if (columns.length === 0)
      throw new Error(`createTableIfMissing(${schema}.${table}) needs at least one column`);
    const list = columns
      .map((column) => `${quoteIdentifier(column.name)} ${postgresType(column.type)}`)
      .join(', ');
    await this.write(`${schema}.${table}`, (c) =>
      createIfMissing(c, `CREATE TABLE IF NOT EXISTS ${name} (${list})`),
    );
  }

  async maxTimestamp(schema: string, table: string, column: string): Promise<number | null> {
    const name = qualifiedName(schema, table);
    return this.read(`${schema}.${table}`, async (c) => {
      const columns = await readTableColumns(c, schema, table);
      const found = columns?.find((existing) => foldIdentifier(existing.name) === foldIdentifier(column));
      if (found === undefined) return null;
      // Epoch milliseconds, truncated as DuckDB's epoch_ms does; unparseable values are NULL.
      const result = await c.query<{ ms: string | null }>(
        `SELECT floor(extract(epoch FROM max(${safeTimestamp(quoteIdentifier(found.name))})) * 1000)::text AS ms FROM ${name}`,
      );
      const value = result.rows[0]?.ms;
      return value === null || value === undefined ? null : Number(value);
    });
  }

  async appendLog(schema: string, rows: IngestionLogRow[]): Promise<void> {
    validateIdentifier(schema, 'schema name');
    await this.write(`${schema}.ingestion_log`, async (c) => {
      await createIfMissing(c, createLogTableSql(schema));
      await inTransaction(
        (sql) => c.query(sql),
        () => insertLogRows(c, schema, rows),
      );
    });
  }

  async openLoad(target: LoadTarget): Promise<StagedLoadSession> {
    this.assertOpen();
    validateLoadTarget(target);
    await this.prepareTarget(target);
    const generation = this.lockGeneration;
    const where = `${target.schema}.${target.table}`;
    let client: PoolClient;
    try {
      client = await this.sessionPool.connect();
    } catch (error) {
      throw this.failure(`cannot start loading ${where}`, error);
    }
    const stageName = newStageName(target.table);
    const driver = new PostgresStaging(client, stageName);
    const session = new StagedLoadSession(this.sessionHost(target, generation), driver, target, stageName);
    try {
      await prepareConnection(client);
      await session.start(); // a TEMP table of the session's own connection
    } catch (error) {
      await driver.close(); // destroys the connection: its state is unknown
      throw this.failure(`cannot start loading ${where}`, error);
    }
    this.sessions.add(session);
    return session;
  }

  private prepareTarget(target: LoadTarget): Promise<void> {
    const key = targetKey(target);
    let prepared = this.preparedTargets.get(key);
    if (prepared === undefined) {
      prepared = (async () => {
        await this.ensureSchema(target.schema);
        await this.lockTable(target.schema, target.table);
        // Commits of tables of one schema run at once: create the log table before any of them does.
        await this.write(`${target.schema}.ingestion_log`, (c) =>
          createIfMissing(c, createLogTableSql(target.schema)),
        );
        await this.cleanupStaleStages(target.schema, target.table);
      })();
      prepared.catch(() => this.preparedTargets.delete(key));
      this.preparedTargets.set(key, prepared);
    }
    return prepared;
  }

  /**
   * Takes the session-level advisory lock on the schema for this run, waiting up to lockWaitMs while
   * another run holds it. Held by the lock connection until close(); sessions of this process share it.
   * One lock per schema, not per table: with a lock per table, two runs started together each took some
   * tables, then waited for the other's and both failed part of their sources.
   */
  private async lockTable(schema: string, table: string): Promise<void> {
    const where = `${schema}.${table}`;
    await this.lockMutex.run(async () => {
      let client: pg.Client;
      try {
        this.lockClient ??= this.connectLockClient();
        client = await this.lockClient;
      } catch (error) {
        this.lockClient = null;
        throw this.failure(`cannot lock ${where} for loading`, error);
      }
      const deadline = Date.now() + this.lockWaitMs;
      for (;;) {
        let locked: boolean;
        try {
          const result = await client.query<{ locked: boolean }>(
            "SELECT pg_try_advisory_lock(hashtext('klaviyo-ingest'), hashtext($1)) AS locked",
            [schema],
          );
          locked = result.rows[0]?.locked === true;
        } catch (error) {
          // Never reuse a lock connection that failed: the next openLoad connects again.
          if (this.lockClient !== null && isConnectionFailure(error)) this.dropLockClient(client, error);
          throw this.failure(`cannot lock ${where} for loading`, error);
        }
        if (locked) return;
        if (Date.now() >= deadline) {
          throw ingestionError(
            `${where}: schema ${schema} is being loaded by another klaviyo-ingest run (waited ${(this.lockWaitMs / 1000).toFixed(this.lockWaitMs < 1000 ? 1 : 0)} s for its lock at ${this.description})`,
            {
              code: 'DESTINATION_LOCKED',
              fix: 'wait for the other run to finish, then run again; runs on other schemas are not blocked',
            },
          );
        }
        await new Promise((resolve) => setTimeout(resolve, Math.min(LOCK_POLL_MS, deadline - Date.now())));
      }
    });
  }

  /**
   * The lock connection. When it is lost (the server ends it, restarts, the network breaks) its
   * advisory locks are gone: `dropLockClient` forgets it and every prepared target, so the next
   * openLoad of a table connects again and takes the lock again (failing with DESTINATION_LOCKED if
   * another run took it meanwhile), and sessions opened before cannot commit (see `lockGeneration`).
   * Nothing waits on this connection, so its loss never hangs a load.
   */
  private async connectLockClient(): Promise<pg.Client> {
    const client = new pg.Client(this.config);
    let lostCause: unknown = null;
    client.on('error', (error) => {
      lostCause ??= error;
    });
    client.on('end', () => {
      this.dropLockClient(
        client,
        lostCause ?? new Error('Connection terminated unexpectedly (the server closed the connection)'),
      );
    });
    try {
      await client.connect();
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    return client;
  }

  /** Forgets a lost lock connection (once; not while closing): see `connectLockClient`. */
  private dropLockClient(client: pg.Client, cause: unknown): void {
    if (this.closed || client.listenerCount('end') === 0) return;
    client.removeAllListeners('end');
    client.on('error', () => undefined);
    this.lockClient = null;
    this.lockGeneration++;
    this.lockLostCause = cause;
    this.preparedTargets.clear();
    client.end().catch(() => undefined);
  }

  /**
   * Drops persistent staging tables left in `schema` (only those of `table` when given) by an older
   * version or another tool; this version's stages are TEMP tables. Returns the number dropped.
   */
  async cleanupStaleStages(schema: string, table?: string): Promise<number> {
    validateIdentifier(schema, 'schema name');
    return this.write(`schema ${schema}`, async (c) => {
      const stale = (await listTables(c, schema, STAGE_PREFIX)).filter((name) => {
        const owner = stageTarget(name);
        return owner !== null && (table === undefined || owner === table);
      });
      for (const name of stale)
        await c.query(`DROP TABLE IF EXISTS ${quoteIdentifier(schema)}.${quoteIdentifier(name)}`);
      return stale.length;
    });
  }

  async tableStatus(schema: string): Promise<TableStatus[]> {
    validateIdentifier(schema, 'schema name');
    return this.read(`schema ${schema}`, (c) => readTableStatus(c, schema));
  }

  /**
   * While another run holds the schema's advisory lock, its STARTED rows are its own loads in flight:
   * none is unfinished. The lock is tried and given back at once on a connection of its own.
   */
  async unfinishedLoads(schema: string): Promise<UnfinishedLoad[]> {
    validateIdentifier(schema, 'schema name');
    if ((await this.tableColumns(schema, INGESTION_LOG_TABLE)) === null) return [];
    return this.read(`schema ${schema}`, async (c) => {
      const lock = "hashtext('klaviyo-ingest'), hashtext($1)";
      const tried = await c.query<{ locked: boolean }>(`SELECT pg_try_advisory_lock(${lock}) AS locked`, [
        schema,
      ]);
      if (tried.rows[0]?.locked !== true) return [];
      try {
        const rows = await c.query(unfinishedLoadsSql(qualifiedName(schema, INGESTION_LOG_TABLE)));
        return toUnfinishedLoads(rows.rows);
      } finally {
        await c.query(`SELECT pg_advisory_unlock(${lock})`, [schema]);
      }
    });
  }

  /** The table's columns with their logical types, or null when it does not exist. */
  async tableColumns(schema: string, table: string): Promise<ColumnSpec[] | null> {
    validateIdentifier(schema, 'schema name');
    validateIdentifier(table, 'table name');
    const columns = await this.read(`${schema}.${table}`, (c) => readTableColumns(c, schema, table));
    return columns?.map(({ name, type }) => ({ name, type })) ?? null;
  }

  /**
   * Runs a statement on an admin connection and returns its rows as objects (BIGINT as bigint, JSON
   * as text), for status displays and tests. Values go in `params`, never in `sql`.
   */
  async query(sql: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
    return this.read('query', async (c) => (await c.query(sql, params)).rows);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const session of [...this.sessions]) await session.abort().catch(() => undefined);
    // Commits in flight finish first.
    await Promise.all([...this.commitLocks.values()].map((lock) => lock.run(async () => undefined)));
    await this.lockMutex.run(async () => {
      const lockClient = await this.lockClient?.catch(() => null);
      await lockClient?.end().catch(() => undefined); // ends the session: its advisory locks go with it
    });
    await Promise.all([
      this.admin.end().catch(() => undefined),
      this.sessionPool.end().catch(() => undefined),
    ]);
  }

  private sessionHost(target: LoadTarget, generation: number): SessionHost {
    let lock = this.commitLocks.get(targetKey(target));
    if (lock === undefined) {
      lock = new Mutex();
      this.commitLocks.set(targetKey(target), lock);
    }
    const commitLock = lock;
    return {
      hooks: this.hooks,
      runCommit: (_what, commit) =>
        commitLock.run(async () => {
          if (generation !== this.lockGeneration) throw this.lockLost(target);
          return commit();
        }),
      describeFailure: (where, error) => this.failure(where, error),
      sessionEnded: (session) => this.sessions.delete(session),
    };
  }

  /** A session opened under a lock connection that was lost since: its commit must not run. */
  private lockLost(target: LoadTarget): IngestError {
    const where = `${target.schema}.${target.table}`;
    return ingestionError(
      `${where}: not committed: the connection to PostgreSQL at ${this.description} holding this run's lock on ${where} was lost (${redact(pgErrorDetail(this.lockLostCause))}); another run may have loaded the table since, so the staged rows were dropped and the table and ingestion_log are unchanged`,
      {
        code: 'DESTINATION_CONNECTION_LOST',
        fix: 'run again: the next load takes the lock again',
        cause: this.lockLostCause,
      },
    );
  }

  /** The user-facing error for a pg error: the cause with its SQLSTATE, never the password. */
  private failure(where: string, error: unknown): IngestError {
    if (error instanceof IngestError) return error;
    const detail = redact(pgErrorDetail(error));
    const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
    if (isConnectionLost(error)) {
      return ingestionError(
        `${where}: the connection to PostgreSQL at ${this.description} was lost: ${detail}`,
        {
          code: 'DESTINATION_CONNECTION_LOST',
          fix: `run again once the server at ${this.description} accepts connections`,
          cause: error,
        },
      );
    }
    if (code === '53100') {
      return ingestionError(`${where}: the server's disk is full: ${detail}`, {
        code: 'DESTINATION_DISK_FULL',
        fix: `free space on the disk of the server at ${this.description} (or of the table's tablespace), then run again`,
        cause: error,
      });
    }
    if (code === '57014' && /statement timeout/i.test(detail)) {
      return ingestionError(
        `${where}: a statement ran longer than the session's statement_timeout: ${detail}`,
        {
          code: 'DESTINATION_WRITE',
          fix: "raise statement_timeout for the destination's role or in the URL (e.g. ?options=-c%20statement_timeout%3D0), then run again",
          cause: error,
        },
      );
    }
    if (isConnectionFailure(error)) {
      return ingestionError(`${where}: cannot reach PostgreSQL at ${this.description}: ${detail}`, {
        code: 'DESTINATION_CONNECT',
        fix: `check that the server at ${this.description} is running and reachable, that the database exists, and that the user's password (in the URL or PGPASSWORD) is right`,
        cause: error,
      });
    }
    return ingestionError(`${where}: ${detail}`, { code: 'DESTINATION_WRITE', cause: error });
  }

  private assertOpen(): void {
    if (this.closed) throw new Error(`${this.description} is closed`);
  }

  /** Runs `action` on a prepared admin connection; errors become IngestErrors naming `where`. */
  async read<T>(where: string, action: (client: ClientBase) => Promise<T>): Promise<T> {
    this.assertOpen();
    let client: PoolClient;
    try {
      client = await this.admin.connect();
    } catch (error) {
      throw this.failure(where, error);
    }
    let broken: Error | undefined;
    try {
      await prepareConnection(client);
      return await action(client);
    } catch (error) {
      if (isConnectionFailure(error)) broken = error instanceof Error ? error : new Error(String(error));
      throw this.failure(where, error);
    } finally {
      client.release(broken);
    }
  }

  private write<T>(where: string, action: (client: ClientBase) => Promise<T>): Promise<T> {
    return this.read(where, action);
  }
}

function targetKey(target: LoadTarget): string {
  return `${target.schema}\u0000${target.table}`;
}

/** Runs a CREATE ... IF NOT EXISTS, once more when it raced with another run's (PostgreSQL can fail those). */
async function createIfMissing(client: ClientBase, sql: string): Promise<void> {
  try {
    await client.query(sql);
  } catch (error) {
    if (!isCreateRace(error)) throw error;
    await client.query(sql);
  }
}
