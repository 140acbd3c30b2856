/**
 * DuckDB SQL over a Parquet dataset's committed files: reading them as a table with the manifest's
 * columns and types, writing rows as Hive-partitioned Parquet files, and the views `query()` shows.
 */
import { mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { ColumnSpec, ColumnType } from '../destination.js';
import { safeTimestamp } from '../duckdb/duckdb-types.js';
import { quoteIdentifier } from '../identifiers.js';
import { type Manifest, type ManifestFile, NULL_PARTITION, PARTITION_COLUMN } from './parquet-layout.js';

/** Rows per row group: DuckDB's own default, large enough for scans, small enough to skip by statistics. */
export const ROW_GROUP_SIZE = 122_880;

/** A column's type inside the files: JSON is written as text holding JSON. */
export const fileType = (type: ColumnType): string => (type === 'JSON' ? 'VARCHAR' : type);

export const sqlText = (text: string) => `'${text.replaceAll("'", "''")}'`;

/**
 * The rows of `files` (absolute paths) with exactly `columns`, each cast to `typeOf` its type. Files
 * hold a prefix of the columns (`file.columns`): columns no file has yet read as NULL.
 */
export function filesSelect(
  files: readonly { absolute: string; columns: number }[],
  columns: readonly ColumnSpec[],
  typeOf: (type: ColumnType) => string,
  /** Adds the column `ki_file`: the file each row is read from. */
  withFile = false,
): string {
  const present = Math.max(0, ...files.map((file) => file.columns));
  const list = columns
    .map((column, i) =>
      i < present && files.length > 0
        ? `CAST(${quoteIdentifier(column.name)} AS ${typeOf(column.type)}) AS ${quoteIdentifier(column.name)}`
        : `CAST(NULL AS ${typeOf(column.type)}) AS ${quoteIdentifier(column.name)}`,
    )
    .join(', ');
  if (files.length === 0)
    return `SELECT ${list}${withFile ? ', CAST(NULL AS VARCHAR) AS ki_file' : ''} WHERE false`;
  const paths = files.map((file) => sqlText(file.absolute)).join(', ');
  return withFile
    ? `SELECT ${list}, filename AS ki_file FROM read_parquet([${paths}], union_by_name = true, hive_partitioning = false, filename = true)`
    : `SELECT ${list} FROM read_parquet([${paths}], union_by_name = true, hive_partitioning = false)`;
}

/** The committed files of a manifest with their absolute paths. */
export function absoluteFiles(
  folder: string,
  files: readonly ManifestFile[],
): (ManifestFile & { absolute: string })[] {
  return files.map((file) => ({ ...file, absolute: path.join(folder, file.path) }));
}

/** The partition value of a row: the UTC date of its window value (NULL_PARTITION when it has none). */
export function windowPartition(windowExpression: string): string {
  return `coalesce(strftime(CAST(${safeTimestamp(windowExpression)} AS TIMESTAMP), '%Y-%m-%d'), ${sqlText(NULL_PARTITION)})`;
}

/** Today's UTC date: the partition of full loads and of log rows without a time. */
export const loadDate = () => new Date().toISOString().slice(0, 10);

export interface WrittenFile {
  /** Where it was written (absolute). */
  staged: string;
  file: ManifestFile;
}

/**
 * Writes the rows of `select` (columns in manifest order, file types) as Parquet files under
 * `folder`, one per partition value of `partition` (an SQL expression over the rows), named
 * `part-<seq>-<n>.parquet`; returns each file with its row count and window maximum.
 */
export async function writePartitioned(
  c: DuckDBConnection,
  options: {
    select: string;
    partition: string;
    folder: string;
    seq: number;
    columns: number;
    windowColumn: string | null;
  },
): Promise<WrittenFile[]> {
  const { select, partition, folder, seq, columns, windowColumn } = options;
  await mkdir(folder, { recursive: true });
  await c.run(
    `COPY (SELECT *, ${partition} AS ${PARTITION_COLUMN} FROM (${select}) AS ki_rows) TO ${sqlText(folder)}
       (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE ${ROW_GROUP_SIZE}, PARTITION_BY (${PARTITION_COLUMN}),
        FILENAME_PATTERN ${sqlText(`part-${String(seq).padStart(8, '0')}-{i}`)}, OVERWRITE_OR_IGNORE)`,
  );
  const written = await parquetFiles(folder);
  if (written.length === 0) return [];
  const max =
    windowColumn === null ? 'NULL' : `epoch_ms(max(${safeTimestamp(quoteIdentifier(windowColumn))}))`;
  const stats = await c.runAndReadAll(
    `SELECT filename, count(*) AS n, ${max} AS m
       FROM read_parquet([${written.map(sqlText).join(', ')}], filename = true, hive_partitioning = false)
      GROUP BY filename`,
  );
  const byFile = new Map(stats.getRows().map(([file, n, m]) => [String(file), { n: Number(n), m }]));
  return written.map((staged) => {
    const relative = path.relative(folder, staged).split(path.sep).join('/');
    const value = /(?:^|\/)ki_date=([^/]+)\//.exec(relative)?.[1] ?? NULL_PARTITION;
    const found = byFile.get(staged);
    return {
      staged,
      file: {
        path: relative,
        partition: decodeURIComponent(value),
        rows: found?.n ?? 0,
        columns,
        windowMaxMs: found === undefined || found.m === null ? null : Number(found.m),
      },
    };
  });
}

/** The Parquet files of a written folder: `folder/ki_date=<value>/*.parquet`. */
async function parquetFiles(folder: string): Promise<string[]> {
  let partitions: string[];
  try {
    partitions = await readdir(folder);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const files: string[] = [];
  for (const partition of partitions.sort()) {
    for (const name of (await readdir(path.join(folder, partition))).sort())
      if (name.endsWith('.parquet')) files.push(path.join(folder, partition, name));
  }
  return files;
}

/** A view's SQL: the dataset with the manifest's columns (JSON as the text holding it, unvalidated). */
export function datasetView(folder: string, manifest: Manifest): string {
  return filesSelect(absoluteFiles(folder, manifest.files), manifest.columns, fileType);
}
