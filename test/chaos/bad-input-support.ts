/** Helpers for bad-input.test.ts: a secret key, DuckDB snapshots and dumps, a revision-rejecting API stub. */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { withDuckDB } from '../support/destination.js';
import { apiError, sendJson, startServer } from '../support/http-server.js';

/** A key nobody would type by accident: if it shows up anywhere, it leaked. */
export const SECRET_KEY = 'pk_testkey_SECRET_1234567890abcdef';
export const SECRET_TAIL = 'SECRET_1234567890abcdef';

/** sha256 of the database file and its WAL (or 'absent'): proof that nothing was written. */
export function fileFingerprint(dbPath: string): string {
  return [dbPath, `${dbPath}.wal`]
    .map((file) =>
      existsSync(file) ? createHash('sha256').update(readFileSync(file)).digest('hex') : 'absent',
    )
    .join('|');
}

const stringify = (value: unknown) =>
  JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));

/** Every table's rows (sorted), keyed `schema.table`; the DuckDB file is opened read-only. */
export async function snapshotTables(dbPath: string): Promise<Record<string, string[]>> {
  return withDuckDB(
    dbPath,
    async (run) => {
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
    },
    { readOnly: true },
  );
}

/** Every text-like (VARCHAR / JSON) value of every table, one string: to search for secrets. */
export async function dumpText(dbPath: string): Promise<string> {
  return withDuckDB(
    dbPath,
    async (run) => {
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
    },
    { readOnly: true },
  );
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
  const server = await startServer((req, res) => {
    const revision = String(req.headers.revision ?? '');
    requests.push(`${req.method} ${req.url} revision=${revision}`);
    sendJson(res, 400, apiError(400, 'invalid', `'${revision}' is not a valid revision.`, 'revision'));
  });
  return { baseUrl: server.baseUrl, requests, close: () => server.close() };
}
