/**
 * What only the Parquet destination does (the contract suite covers the rest): commits a reader can
 * trust while files are renamed, repair after a SIGKILL between renames, compaction, the run lock,
 * and the window's start read from the manifests without opening a data file.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, describe, expect, it } from 'vitest';
import type { Row } from '../../src/records/row.js';
import type { LoadTarget } from '../../src/warehouse/destination.js';
import {
  PARENT_CURSOR_COLUMNS,
  PARENT_CURSOR_TABLE,
  type ParentProgress,
} from '../../src/warehouse/parent-cursors.js';
import { readSnapshot, recoverSchema } from '../../src/warehouse/parquet/parquet-commits.js';
import {
  openParquetDestination,
  type ParquetDestination,
  type ParquetDestinationOptions,
} from '../../src/warehouse/parquet/parquet-destination.js';
import { manifestName } from '../../src/warehouse/parquet/parquet-layout.js';
import { repoRoot } from '../support/cli-process.js';
import { loadBatches, loadTarget, logRow } from '../support/destination.js';
import { cleanupTempDirs, tempDir } from '../support/temp-dirs.js';

afterAll(cleanupTempDirs);

const S = 'src';
const DAY = 86_400_000;
const BASE = Date.UTC(2025, 8, 1);
const iso = (ms: number) => new Date(ms).toISOString();

/** `n` events over `days` days (ids e0..), with value `v`. */
const events = (n: number, days: number, v: number, from = 0): Row[] =>
  Array.from({ length: n }, (_, i) => ({
    id: `e${from + i}`,
    updated: iso(BASE + ((from + i) % days) * DAY + i * 1000),
    v,
  }));

async function open(root: string, options: ParquetDestinationOptions = {}): Promise<ParquetDestination> {
  return openParquetDestination(root, options);
}

/** What a reader that follows the manifests sees of `src.t` and the log, through a destination of its own. */
async function readState(root: string) {
  const reader = await open(root);
  try {
    const [t] = await reader.query(
      `SELECT count(*)::INT AS n, count(DISTINCT id)::INT AS ids, sum(v)::INT AS v FROM ${S}.t`,
    );
    const [log] = await reader.query(`SELECT count(*)::INT AS n FROM ${S}.ingestion_log`);
    return { ...t, log: log?.n };
  } finally {
    await reader.close();
  }
}

/** Every Parquet file under the table's folder, as a glob reader (Spark, Trino) would list them. */
function globFiles(root: string, table = 't'): string[] {
  const dir = path.join(root, S, table);
  if (!existsSync(dir)) return [];
  return (readdirSync(dir, { recursive: true }) as string[])
    .filter((name) => name.endsWith('.parquet') && !name.split(path.sep).some((part) => /^[_.]/.test(part)))
    .sort();
}

async function globCount(root: string): Promise<number> {
  const files = globFiles(root).map((f) => `'${path.join(root, S, 't', f)}'`);
  if (files.length === 0) return 0;
  const instance = await DuckDBInstance.create(':memory:');
  const c = await instance.connect();
  try {
    const reader = await c.runAndReadAll(
      `SELECT count(*)::INT FROM read_parquet([${files.join(', ')}], union_by_name = true)`,
    );
    return Number(reader.getRows()[0]?.[0]);
  } finally {
    c.closeSync();
    instance.closeSync();
  }
}

const merge: LoadTarget = loadTarget(S, 't', 'merge', 'updated');
const append: LoadTarget = loadTarget(S, 't', 'append', 'updated');

describe('commits a reader can trust', () => {
  it('a reader running between the renames of a commit sees the commit before, never a part of it', async () => {
    const root = tempDir('ki-parquet-');
    const during: unknown[] = [];
    let newFilesOnDisk = 0;
    let armed = false;
    const dest = await open(root, {
      hooks: {
        afterRename: async (file) => {
          if (!armed) return;
          if (existsSync(file)) newFilesOnDisk++;
          during.push(await readState(root));
        },
      },
    });
    try {
      await loadBatches(dest, append, events(300, 3, 1));
      const before = await readState(root);
      expect(before).toEqual({ n: 300, ids: 300, v: 300, log: 1 });
      armed = true;
      // A merge updating 100 ids in every partition and adding 100: the touched partitions are
      // rewritten (new files renamed in, the old ones dropped after the commit point).
      const result = await loadBatches(dest, merge, [...events(100, 3, 2), ...events(100, 3, 2, 300)]);
      expect(result).toEqual({ inserted: 200, duplicatesSkipped: 0 });
      // 3 partitions of the table plus the log's file, each renamed under a reader.
      expect(during.length).toBeGreaterThanOrEqual(4);
      expect(newFilesOnDisk).toBe(during.length);
      for (const seen of during) expect(seen).toEqual(before);
      // e0..e99 now v=2, e100..e299 still v=1, e300..e399 new with v=2.
      expect(await readState(root)).toEqual({ n: 400, ids: 400, v: 600, log: 2 });
      // The dropped files are gone once the manifest moved on: a glob reader agrees again.
      expect(await globCount(root)).toBe(400);
    } finally {
      await dest.close();
    }
  });

  it('a SIGKILL between two renames is rolled back by the next run; the rerun commits once', async () => {
    const root = tempDir('ki-parquet-');
    const dest = await open(root);
    await loadBatches(dest, append, events(300, 3, 1));
    await dest.close();
    const before = await readState(root);

    // A process that is killed right after the second file of its merge commit was renamed into place.
    const script = path.join(root, 'killed-load.mjs');
    const module = path.join(repoRoot, 'dist/src/warehouse/parquet/parquet-destination.js');
    writeFileSync(
      script,
      `import { openParquetDestination } from ${JSON.stringify(module)};
const dest = await openParquetDestination(${JSON.stringify(root)}, {
  hooks: { afterRename: (file, index) => { if (index === 1) process.kill(process.pid, 'SIGKILL'); } },
});
const session = await dest.openLoad({ schema: 'src', table: 't', mode: 'merge', windowColumn: 'updated' });
await session.write(${JSON.stringify([...events(100, 3, 2), ...events(100, 3, 2, 300)])});
await session.commit([]);
`,
    );
    const child = spawnSync(process.execPath, [script], { encoding: 'utf8' });
    expect(child.signal, child.stderr).toBe('SIGKILL');

    // The manifests still say commit 1: a reader that follows them sees exactly that.
    expect(await readState(root)).toEqual(before);
    // A glob reader sees the two files renamed before the kill until the next run repairs it.
    expect(await globCount(root)).toBeGreaterThan(300);
    expect(existsSync(path.join(root, S, '_lock'))).toBe(true);

    // And a manifest's temporary file, as a kill while writing one leaves it.
    const temporary = path.join(root, S, 't', '_commits', '.00000002.json.dead');
    writeFileSync(temporary, '{');
    const next = await open(root, { lockWaitMs: 1000 });
    try {
      // The killed run's lock is taken over and its half commit rolled back, before anything else.
      const result = await loadBatches(next, merge, [...events(100, 3, 2), ...events(100, 3, 2, 300)]);
      expect(result).toEqual({ inserted: 200, duplicatesSkipped: 0 });
    } finally {
      await next.close();
    }
    expect(await readState(root)).toEqual({ n: 400, ids: 400, v: 600, log: 2 });
    expect(await globCount(root)).toBe(400);
    expect(readdirSync(path.join(root, S)).sort()).toEqual(['ingestion_log', 't']);
    expect(existsSync(temporary)).toBe(false);
  });
});

describe('compact', () => {
  it("merges each partition's files into one, atomically, keeping every row", async () => {
    const root = tempDir('ki-parquet-');
    const during: unknown[] = [];
    let armed = false;
    const dest = await open(root, {
      hooks: {
        afterRename: async () => {
          if (armed) during.push(await readState(root));
        },
      },
    });
    try {
      for (let run = 0; run < 4; run++) await loadBatches(dest, append, events(60, 3, 1, run * 60));
      const before = await readState(root);
      expect(globFiles(root)).toHaveLength(12);
      armed = true;
      const [result] = await dest.compact(S, ['t']);
      expect(result).toEqual({ table: 't', filesBefore: 12, filesAfter: 3, rowsBefore: 240, rowsAfter: 240 });
      for (const seen of during) expect(seen).toEqual(before);
      expect(during).toHaveLength(3);
      expect(globFiles(root)).toHaveLength(3);
      expect(await readState(root)).toEqual(before);
      // Nothing left to merge: a second compaction commits nothing.
      expect(await dest.compact(S)).toEqual([
        { table: 'ingestion_log', filesBefore: 4, filesAfter: 1, rowsBefore: 4, rowsAfter: 4 },
        { table: 't', filesBefore: 0, filesAfter: 0, rowsBefore: 0, rowsAfter: 0 },
      ]);
      expect(await readState(root)).toEqual(before);
    } finally {
      await dest.close();
    }
  });
});

describe('the run lock and the window start', () => {
  it("a second run on the schema waits, then fails naming the folder; a dead run's lock is taken over", async () => {
    const root = tempDir('ki-parquet-');
    const first = await open(root);
    await first.appendLog(S, [logRow({ status: 'STARTED' })]);
    const second = await open(root, { lockWaitMs: 300 });
    const error = await second.appendLog(S, [logRow()]).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'DESTINATION_LOCKED' });
    expect(String((error as Error).message)).toContain(`schema src of parquet:${root}`);
    await first.close();
    await second.appendLog(S, [logRow()]);
    await second.close();
    // A lock file of a process that no longer exists.
    writeFileSync(
      path.join(root, S, '_lock'),
      JSON.stringify({ host: (await import('node:os')).hostname(), pid: 2 ** 22 + 7, token: 'x', since: '' }),
    );
    const third = await open(root, { lockWaitMs: 300 });
    await third.appendLog(S, [logRow()]);
    await third.close();
    const reader = await open(root);
    expect(await reader.query(`SELECT status FROM ${S}.ingestion_log ORDER BY status`)).toEqual([
      { status: 'STARTED' },
      { status: 'SUCCESS' },
      { status: 'SUCCESS' },
    ]);
    await reader.close();
  });

  it("reads the window's max from the manifests, without opening a data file", async () => {
    const root = tempDir('ki-parquet-');
    const dest = await open(root);
    try {
      await loadBatches(dest, append, [
        { id: 'a', updated: '2025-09-03T10:11:12+00:00' },
        { id: 'b', updated: '2025-09-03T12:11:12.500+02:00' },
        { id: 'c', updated: 'garbage' },
      ]);
      await loadBatches(dest, append, [{ id: 'd', updated: '2025-09-02T00:00:00Z' }]);
      const expected = Date.parse('2025-09-03T10:11:12.500Z');
      expect(await dest.maxTimestamp(S, 't', 'updated')).toBe(expected);
      // Move every data file away: the max still comes from the manifests.
      for (const file of globFiles(root))
        renameSync(path.join(root, S, 't', file), path.join(root, `${path.basename(file)}.away`));
      expect(await dest.maxTimestamp(S, 't', 'updated')).toBe(expected);
      const { datasets } = await readSnapshot(root, S);
      expect(
        datasets
          .get('t')
          ?.files.map((f) => f.partition)
          .sort(),
      ).toEqual(['2025-09-02', '2025-09-03', '__HIVE_DEFAULT_PARTITION__']);
    } finally {
      await dest.close();
    }
  });
});

describe('parent cursors of child collections (ingestion_parents)', () => {
  const members = loadTarget(S, 'm', 'append', 'updated');
  const END = '2025-09-03 00:00:00';

  /** The member rows and the parent cursors a reader following the manifests sees. */
  async function childState(root: string) {
    const reader = await open(root);
    try {
      const [m] = await reader.query(`SELECT count(*)::INT AS n FROM ${S}.m`);
      const parents = await reader.query(
        `SELECT parent_id, pending FROM ${S}.ingestion_parents WHERE table_name = 'm' ORDER BY parent_id`,
      );
      return { rows: m?.n, parents: parents.map((p) => `${p.parent_id}:${p.pending ? 'pending' : 'done'}`) };
    } finally {
      await reader.close();
    }
  }

  it('commit with the rows under one number: a kill before the commit point rolls both back, after it both forward', async () => {
    const root = tempDir('ki-parquet-');
    const beforeCommitPoint = tempDir('ki-parquet-killed-');
    let copyAtLastRename = false;
    // The folder as a SIGKILL after the last rename of the second commit leaves it (every file in
    // place, the log's manifest, the commit point, not yet written).
    const dest = await open(root, {
      hooks: {
        afterRename: (_file, index, total) => {
          if (copyAtLastRename && index === total - 1)
            cpSync(path.join(root, S), path.join(beforeCommitPoint, S), { recursive: true });
        },
      },
    });
    const load = async (rows: Row[], parents: ParentProgress) => {
      const session = await dest.openLoad(members);
      await session.write(rows);
      return session.commit([logRow({ table_name: 'm' })], parents);
    };
    try {
      await dest.ensureSchema(S);
      await dest.createTableIfMissing(S, PARENT_CURSOR_TABLE, [...PARENT_CURSOR_COLUMNS]);
      await load(events(10, 2, 1), { done: [{ parentId: 'L1', endTime: END }], complete: false });
      expect(await childState(root)).toEqual({ rows: 10, parents: ['L1:pending'] });
      copyAtLastRename = true;
      await load(events(10, 2, 1, 10), { done: [{ parentId: 'L2', endTime: END }], complete: true });
    } finally {
      await dest.close();
    }
    expect(await childState(root)).toEqual({ rows: 20, parents: ['L1:done', 'L2:done'] });
    const snapshot = await readSnapshot(root, S);
    expect(snapshot.datasets.get(PARENT_CURSOR_TABLE)?.seq).toBe(snapshot.seq);
    expect(snapshot.datasets.get('m')?.seq).toBe(snapshot.seq);
    expect(globFiles(root, PARENT_CURSOR_TABLE)).toHaveLength(1);

    // Killed right after the commit point: the same folder with the log's manifest of commit 2.
    const afterCommitPoint = tempDir('ki-parquet-killed-');
    cpSync(path.join(beforeCommitPoint, S), path.join(afterCommitPoint, S), { recursive: true });
    const logManifest = path.join(S, 'ingestion_log', '_commits', manifestName(snapshot.seq));
    cpSync(path.join(root, logManifest), path.join(afterCommitPoint, logManifest));

    // Before: the parents' new file is on disk beside the old one; recovery drops it with the rows.
    expect(globFiles(beforeCommitPoint, PARENT_CURSOR_TABLE)).toHaveLength(2);
    await recoverSchema(beforeCommitPoint, S);
    expect(await childState(beforeCommitPoint)).toEqual({ rows: 10, parents: ['L1:pending'] });
    expect(globFiles(beforeCommitPoint, PARENT_CURSOR_TABLE)).toHaveLength(1);
    expect(globFiles(beforeCommitPoint, 'm')).toEqual(
      globFiles(root, 'm').filter((f) => f.includes('-00000002-')),
    );

    // After: the commit stands, rows and parents; the old parents file is deleted.
    await recoverSchema(afterCommitPoint, S);
    expect(await childState(afterCommitPoint)).toEqual({ rows: 20, parents: ['L1:done', 'L2:done'] });
    expect(globFiles(afterCommitPoint, PARENT_CURSOR_TABLE)).toEqual(globFiles(root, PARENT_CURSOR_TABLE));
  });
});
