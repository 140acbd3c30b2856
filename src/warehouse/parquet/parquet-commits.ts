/**
 * Commits of a Parquet dataset, and their repair after a crash (see parquet-layout.ts for the layout).
 *
 * A commit of number N, under the schema's run lock:
 * 1. its new files are written under `_staging/N/` (ignored by every engine);
 * 2. each changed table gets its manifest `N.json` (not committed yet: N is above the log's newest);
 * 3. the new files are renamed into their partitions (new names: no committed file is replaced);
 * 4. the ingestion log's manifest `N.json` is written: the commit point, one rename;
 * 5. files the new manifests dropped (rewritten partitions, compacted files) are deleted, the
 *    staging folder is removed and old manifests are pruned.
 * A reader that follows the manifests sees commit N-1 until step 4 and commit N from then on. A crash
 * before step 4 is rolled back by `recoverSchema` (the manifests above the log's newest and the
 * files only they list are deleted); a crash after it is rolled forward (step 5 is finished).
 */
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { INGESTION_LOG_TABLE } from '../ingestion-log.js';
import {
  commitsDir,
  datasetDir,
  datasetNames,
  isMissing,
  type Manifest,
  manifestName,
  manifestSeqs,
  readManifest,
  schemaDir,
  stagingDir,
  unlinkIfPresent,
  writeManifest,
} from './parquet-layout.js';

/** Manifests kept per dataset (the newest and a few before it, for readers that listed them). */
const KEPT_MANIFESTS = 4;

/** The committed state of a schema. */
export interface SchemaSnapshot {
  /** The newest committed commit number (0: nothing committed). */
  seq: number;
  /** Each dataset's newest manifest at or below `seq`, by name. */
  datasets: Map<string, Manifest>;
}

/** The newest committed commit number of a schema: the ingestion log's newest manifest. */
export async function committedSeq(root: string, schema: string): Promise<number> {
  return (await manifestSeqs(commitsDir(root, schema, INGESTION_LOG_TABLE))).at(-1) ?? 0;
}

/** A dataset's newest manifest at or below `seq`, or null. */
export async function manifestAt(
  root: string,
  schema: string,
  table: string,
  seq: number,
): Promise<Manifest | null> {
  const dir = commitsDir(root, schema, table);
  const found = (await manifestSeqs(dir)).filter((s) => s <= seq).at(-1);
  return found === undefined ? null : readManifest(dir, found);
}

/**
 * The committed state of a schema, as a reader sees it. A writer may prune a manifest between the
 * listing and the read: then the read is repeated.
 */
export async function readSnapshot(root: string, schema: string): Promise<SchemaSnapshot> {
  for (let attempt = 1; ; attempt++) {
    try {
      const seq = await committedSeq(root, schema);
      const datasets = new Map<string, Manifest>();
      if (seq > 0) {
        for (const name of await datasetNames(schemaDir(root, schema))) {
          const manifest = await manifestAt(root, schema, name, seq);
          if (manifest !== null) datasets.set(name, manifest);
        }
      }
      return { seq, datasets };
    } catch (error) {
      if (!isMissing(error) || attempt >= 5) throw error;
    }
  }
}

/** One dataset's part of a commit. */
export interface DatasetCommit {
  manifest: Manifest;
  /** New files: where they were written (absolute) and their path in the manifest. */
  added: { staged: string; path: string }[];
  /** Paths (as in the previous manifest) this commit no longer lists: deleted once it is committed. */
  removed: string[];
}

export interface CommitHooksParquet {
  /** Called between the renames of step 3 (tests: a reader runs here, or the process is killed). */
  afterRename?: (file: string, index: number, total: number) => void | Promise<void>;
}

/**
 * Steps 2-5 of commit `seq` (the files are staged). `log` is the ingestion log's manifest for this
 * number, written last. When anything before the commit point fails, what was done is rolled back.
 */
export async function publishCommit(
  root: string,
  schema: string,
  tables: readonly DatasetCommit[],
  log: DatasetCommit,
  hooks: CommitHooksParquet = {},
): Promise<void> {
  const all = [...tables, log];
  try {
    for (const table of tables)
      await writeManifest(commitsDir(root, schema, table.manifest.table), table.manifest);
    const renames = all.flatMap((d) =>
      d.added.map((file) => ({
        from: file.staged,
        to: path.join(datasetDir(root, schema, d.manifest.table), file.path),
      })),
    );
    let index = 0;
    for (const { from, to } of renames) {
      await mkdir(path.dirname(to), { recursive: true });
      await rename(from, to);
      await hooks.afterRename?.(to, index++, renames.length);
    }
    await writeManifest(commitsDir(root, schema, INGESTION_LOG_TABLE), log.manifest);
  } catch (error) {
    await recoverSchema(root, schema).catch(() => undefined);
    throw error;
  }
  // Committed: what follows only tidies up, and the next run's recovery finishes it if this fails.
  await recoverSchema(root, schema).catch(() => undefined);
}

/**
 * Brings a schema to its committed state: tables' manifests above the committed number are rolled
 * back with the files only they list; files dropped by a committed manifest are deleted; staging
 * leftovers and old manifests go. Runs under the schema's run lock (before every commit, and after).
 */
export async function recoverSchema(root: string, schema: string): Promise<void> {
  const committed = await committedSeq(root, schema);
  for (const name of await datasetNames(schemaDir(root, schema))) {
    const dir = commitsDir(root, schema, name);
    const seqs = await manifestSeqs(dir);
    const current = seqs.filter((s) => s <= committed).at(-1);
    const kept = new Set(
      current === undefined ? [] : (await readManifest(dir, current)).files.map((file) => file.path),
    );
    const older = seqs.filter((s) => current === undefined || s < current);
    const pruned = new Set(older.slice(0, Math.max(0, older.length - (KEPT_MANIFESTS - 1))));
    for (const seq of seqs) {
      if (seq === current) continue;
      const manifest = await readManifest(dir, seq).catch(() => null);
      for (const file of manifest?.files ?? [])
        if (!kept.has(file.path)) await unlinkIfPresent(path.join(datasetDir(root, schema, name), file.path));
      if (seq > committed || pruned.has(seq)) await unlinkIfPresent(path.join(dir, manifestName(seq)));
    }
    // A manifest's temporary file left by a run killed while writing it.
    for (const entry of await readdir(dir).catch(() => [] as string[]))
      if (entry.startsWith('.')) await unlinkIfPresent(path.join(dir, entry));
  }
  await rm(stagingDir(root, schema), { recursive: true, force: true });
}
