/**
 * Where a Parquet dataset keeps what, and the manifests that say which files are committed.
 *
 * ```
 * DIR/<schema>/<table>/ki_date=<YYYY-MM-DD>/part-<seq>-<n>.parquet   data, Hive-partitioned
 * DIR/<schema>/<table>/_commits/<seq>.json                            the table after commit <seq>
 * DIR/<schema>/ingestion_log/...                                      the log, laid out the same way
 * DIR/<schema>/_staging/<seq>/...                                     files of a commit in progress
 * DIR/<schema>/_lock                                                  the run holding the schema
 * ```
 * Every commit of a schema gets the next sequence number and ends by writing the ingestion log's
 * manifest of that number: that one rename is the commit point. A table manifest whose number is
 * above the log's newest is not committed (yet, or ever: the next run rolls it back). Names starting
 * with `_` or `.` are ignored by Spark, Trino, Hive, BigQuery and DuckDB's globs alike.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { ColumnSpec } from '../destination.js';

/** The Hive partition column: the window value's UTC date (the load date for full loads). */
export const PARTITION_COLUMN = 'ki_date';
/** Hive's name for a NULL partition value (no window value, or one that is not a timestamp). */
export const NULL_PARTITION = '__HIVE_DEFAULT_PARTITION__';
export const COMMITS_DIR = '_commits';
export const STAGING_DIR = '_staging';
export const LOCK_FILE = '_lock';
export const MANIFEST_FORMAT = 1;

export interface ManifestFile {
  /** Relative to the dataset's folder, e.g. `ki_date=2025-09-01/part-00000012-0.parquet`. */
  path: string;
  /** The partition value (`YYYY-MM-DD` or NULL_PARTITION). */
  partition: string;
  rows: number;
  /** The file holds the first `columns` columns of the manifest (columns are only ever appended). */
  columns: number;
  /** The chronological max of the window column in this file, epoch ms; null when none. */
  windowMaxMs: number | null;
}

/** One dataset (a table, or the ingestion log) as of one commit. */
export interface Manifest {
  format: number;
  seq: number;
  table: string;
  /** The window column the files are partitioned by (null: by load date). */
  windowColumn: string | null;
  columns: ColumnSpec[];
  files: ManifestFile[];
  /** ISO time of the commit. */
  committedAt: string;
}

export const schemaDir = (root: string, schema: string) => path.join(root, schema);
export const datasetDir = (root: string, schema: string, table: string) => path.join(root, schema, table);
export const commitsDir = (root: string, schema: string, table: string) =>
  path.join(datasetDir(root, schema, table), COMMITS_DIR);
export const stagingDir = (root: string, schema: string) => path.join(root, schema, STAGING_DIR);

const MANIFEST_NAME = /^(\d{8,})\.json$/;

export const manifestName = (seq: number) => `${String(seq).padStart(8, '0')}.json`;

/** The sequence numbers of a dataset's manifests, ascending ([] when it has none). */
export async function manifestSeqs(dir: string): Promise<number[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if (isMissing(error)) return [];
    throw error;
  }
  return names
    .map((name) => MANIFEST_NAME.exec(name)?.[1])
    .filter((seq): seq is string => seq !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
}

export async function readManifest(dir: string, seq: number): Promise<Manifest> {
  return JSON.parse(await readFile(path.join(dir, manifestName(seq)), 'utf8')) as Manifest;
}

/** Writes a manifest atomically: a hidden temporary file, flushed to disk, then renamed into place. */
export async function writeManifest(dir: string, manifest: Manifest): Promise<void> {
  await mkdir(dir, { recursive: true });
  const temporary = path.join(dir, `.${manifestName(manifest.seq)}.${randomBytes(4).toString('hex')}`);
  const handle = await open(temporary, 'wx');
  try {
    await handle.writeFile(`${JSON.stringify(manifest, null, 1)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, path.join(dir, manifestName(manifest.seq)));
}

/** The names of the datasets (folders not starting with `_` or `.`) of a schema folder. */
export async function datasetNames(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir, { withFileTypes: true }))
      .filter((entry) => entry.isDirectory() && !/^[_.]/.test(entry.name))
      .map((entry) => entry.name)
      .sort();
  } catch (error) {
    if (isMissing(error)) return [];
    throw error;
  }
}

export async function unlinkIfPresent(file: string): Promise<void> {
  try {
    await unlink(file);
  } catch (error) {
    if (!isMissing(error)) throw error;
  }
}

export function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | null)?.code === 'ENOENT';
}
