/** Helpers for bad-input.test.ts: env-scoped CLI runs, DuckDB snapshots and dumps, a revision-rejecting API stub. */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { type CliResult, repoRoot, runCli } from '../project/helpers.js';

/** A key nobody would type by accident: if it shows up anywhere, it leaked. */
export const SECRET_KEY = 'pk_testkey_SECRET_1234567890abcdef';
export const SECRET_TAIL = 'SECRET_1234567890abcdef';

type Env = Record<string, string | undefined>;

/** `runCli` with these environment variables set for the call only (undefined = unset). */
export async function cliWithEnv(argv: string[], env: Env): Promise<CliResult> {
  const saved: Env = {};
  for (const [name, value] of Object.entries(env)) {
    saved[name] = process.env[name];
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  try {
    return await runCli(argv);
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

/** The real binary in a child process (checks the process exit code, not just `main`'s return). */
export function spawnCli(argv: string[], env: Env): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(repoRoot, 'bin/klaviyo-ingest.js'), ...argv], {
      cwd: repoRoot,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString('utf8');
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString('utf8');
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** sha256 of the database file and its WAL (or 'absent'): proof that nothing was written. */
export function fileFingerprint(dbPath: string): string {
  return [dbPath, `${dbPath}.wal`]
    .map((file) =>
      existsSync(file) ? createHash('sha256').update(readFileSync(file)).digest('hex') : 'absent',
    )
    .join('|');
}

async function withReadOnly<T>(
  dbPath: string,
  use: (run: (sql: string) => Promise<Record<string, unknown>[]>) => Promise<T>,
): Promise<T> {
  const instance = await DuckDBInstance.create(dbPath, { access_mode: 'READ_ONLY' });
  const connection = await instance.connect();
  try {
    return await use(
      async (sql) => (await connection.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[],
    );
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

const stringify = (value: unknown) =>
  JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));

/** Every table's rows (sorted), keyed `schema.table`; the DuckDB file is opened read-only. */
export async function snapshotTables(dbPath: string): Promise<Record<string, string[]>> {
  return withReadOnly(dbPath, async (run) => {
    const tables = await run(
      "SELECT table_schema, table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' ORDER BY 1, 2",
    );
    const out: Record<string, string[]> = {};
    for (const t of tables) {
      const name = `"${String(t.table_schema)}"."${String(t.table_name)}"`;
      const rows = await run(`SELECT * FROM ${name}`);
      out[`${String(t.table_schema)}.${String(t.table_name)}`] = rows.map(stringify).sort();
    }
    return out;
  });
}

/** Every text-like (VARCHAR / JSON) value of every table, one string: to search for secrets. */
export async function dumpText(dbPath: string): Promise<string> {
  return withReadOnly(dbPath, async (run) => {
    const columns = await run(
      `SELECT c.table_schema, c.table_name, c.column_name FROM information_schema.columns c
       JOIN information_schema.tables t USING (table_schema, table_name)
       WHERE t.table_type = 'BASE TABLE' AND (c.data_type LIKE 'VARCHAR%' OR c.data_type = 'JSON')`,
    );
    const parts: string[] = [];
    for (const c of columns) {
      const col = `"${String(c.column_name).replace(/"/g, '""')}"`;
      const rows = await run(
        `SELECT ${col}::VARCHAR AS v FROM "${String(c.table_schema)}"."${String(c.table_name)}" WHERE ${col} IS NOT NULL`,
      );
      for (const r of rows) parts.push(String(r.v));
    }
    return parts.join('\n');
  });
}

/** The rows a failed run may add to a table that had `before`: none removed, none changed. */
export function addedRows(before: string[], after: string[]): string[] {
  const remaining = [...after];
  for (const row of before) {
    const i = remaining.indexOf(row);
    if (i < 0) throw new Error(`row removed or changed: ${row}`);
    remaining.splice(i, 1);
  }
  return remaining;
}

/**
 * Klaviyo's current versioning policy: "the revision passed in must be a valid revision". The
 * simulator falls back to the nearest older contract instead, so this stub plays the real API:
 * every request gets the JSON:API 400 on the `revision` parameter.
 */
export async function startRevisionRejectingApi(): Promise<{
  baseUrl: string;
  requests: string[];
  close(): Promise<void>;
}> {
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    const revision = String(req.headers.revision ?? '');
    requests.push(`${req.method} ${req.url} revision=${revision}`);
    res.writeHead(400, { 'Content-Type': 'application/vnd.api+json' });
    res.end(
      JSON.stringify({
        errors: [
          {
            id: 'b1c2',
            status: 400,
            code: 'invalid',
            title: 'Invalid input.',
            detail: `'${revision}' is not a valid revision.`,
            source: { parameter: 'revision' },
            links: {},
            meta: {},
          },
        ],
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
