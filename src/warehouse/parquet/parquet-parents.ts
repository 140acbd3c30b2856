/**
 * `ingestion_parents` in a Parquet dataset: the parent cursors of child collections (parent-cursors.ts)
 * as one more dataset of the schema. A commit that records parent progress rewrites it (it holds a row
 * per parent and child table: small) under the same commit number as the child table and the
 * ingestion log, so the log's manifest, the commit point, publishes the rows and their parents'
 * progress together, and `recoverSchema` rolls both back or forward like any dataset.
 */
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { quoteIdentifier } from '../identifiers.js';
import { PARENT_CURSOR_COLUMNS, PARENT_CURSOR_TABLE, type ParentProgress } from '../parent-cursors.js';
import type { DatasetCommit } from './parquet-commits.js';
import { datasetDir, MANIFEST_FORMAT, type Manifest } from './parquet-layout.js';
import { absoluteFiles, filesSelect, fileType, loadDate, sqlText, writePartitioned } from './parquet-sql.js';

/**
 * The `ingestion_parents` part of commit `seq`: the committed rows (`committed`, the dataset's manifest
 * before this commit) with `progress` of `table` applied, written under `stagingFolder`.
 */
export async function parentProgressCommit(
  c: DuckDBConnection,
  options: {
    root: string;
    schema: string;
    seq: number;
    table: string;
    progress: ParentProgress;
    committed: Manifest | null;
    stagingFolder: string;
  },
): Promise<DatasetCommit> {
  const { root, schema, seq, table, progress, committed } = options;
  const columns = PARENT_CURSOR_COLUMNS.map(({ name, type }) => ({ name, type }));
  const existing = filesSelect(
    absoluteFiles(datasetDir(root, schema, PARENT_CURSOR_TABLE), committed?.files ?? []),
    columns,
    fileType,
  );
  const done = 'temp.main.ki_parents_done';
  await c.run(`CREATE OR REPLACE TEMP TABLE ki_parents_done (parent_id VARCHAR, end_time VARCHAR)`);
  try {
    const insert = await c.prepare(`INSERT INTO ${done} VALUES ($1, $2)`);
    try {
      for (const { parentId, endTime } of progress.done) {
        insert.bind([parentId, endTime]);
        await insert.run();
      }
    } finally {
      insert.destroySync();
    }
    // As parentProgressStatements: a completed parent's row replaced, and on the run's last commit
    // no parent of the table pending any more.
    const ofTable = `table_name = ${sqlText(table)}`;
    const pending = progress.complete ? `CASE WHEN ${ofTable} THEN false ELSE pending END` : 'pending';
    const kept = `SELECT table_name, parent_id, end_time, ${pending} AS pending FROM (${existing})
      WHERE NOT (${ofTable} AND parent_id IN (SELECT parent_id FROM ${done}))`;
    const added = `SELECT ${sqlText(table)}, parent_id, end_time, ${progress.complete ? 'false' : 'true'} FROM ${done}`;
    const written = await writePartitioned(c, {
      select: `SELECT ${columns.map((column) => quoteIdentifier(column.name)).join(', ')} FROM (${kept}) UNION ALL ${added}`,
      partition: sqlText(loadDate()),
      folder: path.join(options.stagingFolder, PARENT_CURSOR_TABLE),
      seq,
      columns: columns.length,
      windowColumn: null,
    });
    const manifest: Manifest = {
      format: MANIFEST_FORMAT,
      seq,
      table: PARENT_CURSOR_TABLE,
      windowColumn: null,
      columns,
      files: written.map((w) => w.file),
      committedAt: new Date().toISOString(),
    };
    return {
      manifest,
      added: written.map(({ staged, file }) => ({ staged, path: file.path })),
      removed: (committed?.files ?? []).map((file) => file.path),
    };
  } finally {
    await c.run(`DROP TABLE IF EXISTS ${done}`);
  }
}
