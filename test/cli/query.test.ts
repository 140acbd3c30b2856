/**
 * `klaviyo-ingest query`: one read-only statement on a DuckDB file or a PostgreSQL schema, printed as a
 * table, CSV or JSON. Statements that would write (or reach files outside the database) fail with
 * QUERY_READ_ONLY, exit 2, and leave the database byte for byte as it was.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileFingerprint } from '../chaos/bad-input-support.js';
import { runCli } from '../support/cli-in-process.js';
import { repoRoot } from '../support/cli-process.js';
import { withDuckDB } from '../support/destination.js';
import { freshSchema } from '../support/postgres.js';
import { cleanupTempDirs, tempDir } from '../support/temp-dirs.js';

let dir: string;
let db: string;

beforeAll(async () => {
  dir = tempDir('ki-query-');
  db = path.join(dir, 'k.duckdb');
  await withDuckDB(db, async (run) => {
    await run('CREATE SCHEMA klaviyo_src');
    await run(
      'CREATE TABLE klaviyo_src.klaviyo_lists (id VARCHAR, name VARCHAR, updated VARCHAR, "time" BIGINT, props JSON)',
    );
    await run(`INSERT INTO klaviyo_src.klaviyo_lists VALUES
      ('L1', 'VIP, gold', '2025-09-01T00:00:00+00:00', 1759000000, '{"a":[1,2]}'),
      ('L2', 'Say "hi"', '2025-09-02T00:00:00+00:00', 1759000001, NULL)`);
  });
});

afterAll(cleanupTempDirs);

const query = (sql: string, ...flags: string[]) =>
  runCli(['query', sql, '--destination', `duckdb:${db}`, ...flags]);
const SELECT = 'SELECT id, name, "time", props FROM klaviyo_src.klaviyo_lists ORDER BY id';

describe('query on DuckDB', () => {
  it('prints a table, CSV with RFC 4180 quoting, and JSON with numbers as numbers', async () => {
    const table = await query(SELECT);
    expect(table.code, table.stderr).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^id\s+name\s+time\s+props$/);
    expect(lines[2]).toMatch(/^L1\s+VIP, gold\s+1759000000\s+\{"a":\[1,2\]\}$/);
    expect(lines[3]).toMatch(/^L2\s+Say "hi"\s+1759000001\s+NULL$/);
    expect(lines.at(-1)).toBe('(2 rows)');

    const csv = await query(SELECT, '--format', 'csv');
    expect(csv.stdout).toBe(
      'id,name,time,props\nL1,"VIP, gold",1759000000,"{""a"":[1,2]}"\nL2,"Say ""hi""",1759000001,\n',
    );

    const json = await query(SELECT, '--format', 'json');
    expect(JSON.parse(json.stdout)).toEqual([
      { id: 'L1', name: 'VIP, gold', time: 1759000000, props: '{"a":[1,2]}' },
      { id: 'L2', name: 'Say "hi"', time: 1759000001, props: null },
    ]);
  });

  it.each([
    ['DELETE FROM klaviyo_src.klaviyo_lists', 'QUERY_READ_ONLY'],
    ['DROP TABLE klaviyo_src.klaviyo_lists', 'QUERY_READ_ONLY'],
    ['CREATE TABLE klaviyo_src.x AS SELECT 1 AS a', 'QUERY_READ_ONLY'],
    ['UPDATE klaviyo_src.klaviyo_lists SET name = NULL', 'QUERY_READ_ONLY'],
  ])('refuses %s: exit 2, the database unchanged', async (sql, code) => {
    const before = fileFingerprint(db);
    const result = await query(sql);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('query is read-only');
    expect(result.stderr).toContain('fix: query only reads');
    expect(fileFingerprint(db)).toBe(before);
    const json = await query(sql, '--format', 'json');
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, exitCode: 2, error: { code } });
  });

  it('cannot write other files either (ATTACH, COPY TO): external access is off', async () => {
    const before = fileFingerprint(db);
    const other = path.join(dir, 'other.duckdb');
    const out = path.join(dir, 'out.csv');
    for (const sql of [
      `ATTACH '${other}' AS o; CREATE TABLE o.t AS SELECT 1 AS a`,
      `COPY (SELECT * FROM klaviyo_src.klaviyo_lists) TO '${out}'`,
      'SET enable_external_access = true',
    ]) {
      const result = await query(sql);
      expect(result.code, sql).toBe(2);
      expect(result.stderr).toMatch(/QUERY_READ_ONLY|query is read-only|configuration|locked/i);
    }
    expect(existsSync(other)).toBe(false);
    expect(existsSync(out)).toBe(false);
    expect(fileFingerprint(db)).toBe(before);
  });

  it('bad SQL, a bad --format, an empty statement and a missing file: exit 2, nothing created', async () => {
    const bad = await query('SELEC 1');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('the query failed');
    expect((await query(SELECT, '--format', 'xml')).stderr).toContain(
      "--format must be one of table, csv, json, got 'xml'",
    );
    expect((await query('  ')).code).toBe(2);
    const missing = path.join(dir, 'none.duckdb');
    const none = await runCli([
      'query',
      'SELECT 1',
      '--destination',
      `duckdb:${missing}`,
      '--format',
      'json',
    ]);
    expect(none.code).toBe(2);
    expect(JSON.parse(none.stdout).error.code).toBe('DESTINATION_MISSING');
    expect(existsSync(missing)).toBe(false);
  });

  it('while another process holds the file for writing: DESTINATION_IN_USE, exit 1, a clear message', async () => {
    // DuckDB lets one process open a file read-write and then no other process at all, not even read-only.
    const holder = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        "import { DuckDBInstance } from '@duckdb/node-api'; await DuckDBInstance.create(process.argv[1]); console.log('ready'); setInterval(() => {}, 1000);",
        db,
      ],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      await new Promise<void>((resolve, reject) => {
        holder.stdout?.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
        holder.once('exit', (code) => reject(new Error(`holder exited with ${code}`)));
      });
      const result = await query('SELECT count(*) FROM klaviyo_src.klaviyo_lists');
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('is open for writing in another process');
      expect(result.stderr).toContain('fix: query again when the run has finished');
    } finally {
      holder.kill();
    }
  });
});

describe('query on PostgreSQL', () => {
  it('reads in a READ ONLY transaction; writes and a second statement are refused, nothing changes', async () => {
    const s = await freshSchema('query');
    await s.client.query('CREATE TABLE t (id text, n bigint)');
    await s.client.query("INSERT INTO t VALUES ('a', 1), ('b', 2)");
    const pg = (sql: string, ...flags: string[]) => runCli(['query', sql, '--destination', s.url, ...flags]);

    const read = await pg(`SELECT id, n FROM ${s.name}.t ORDER BY id`, '--format', 'csv');
    expect(read.code, read.stderr).toBe(0);
    expect(read.stdout).toBe('id,n\na,1\nb,2\n');

    for (const sql of [
      `DELETE FROM ${s.name}.t`,
      `CREATE TABLE ${s.name}.u (a int)`,
      `SELECT 1; DELETE FROM ${s.name}.t`,
      `COMMIT; DELETE FROM ${s.name}.t`,
    ]) {
      const result = await pg(sql);
      expect(result.code, sql).toBe(2);
    }
    expect((await pg(`DELETE FROM ${s.name}.t`)).stderr).toContain('query is read-only');
    const rows = await s.client.query('SELECT count(*)::int AS n FROM t');
    expect(rows.rows[0].n).toBe(2);
    const tables = await s.client.query(
      'SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = $1',
      [s.name],
    );
    expect(tables.rows[0].n).toBe(1);
  });
});
