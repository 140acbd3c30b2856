/**
 * `<schema>.ingestion_parents`: how far each parent of a child collection (each list of list
 * memberships) was read, so a run resumes by parent. A parent's rows and its row here commit in one
 * transaction (`pending` until the run's last commit). After a failed or killed run, the parents still
 * pending were completed by it: the next run skips them and reads the rest; its last commit clears them.
 * The same SQL runs on DuckDB and PostgreSQL; a Parquet commit rewrites the `ingestion_parents` dataset
 * under the commit's number instead (parquet-parents.ts).
 */
import type { ColumnSpec, Destination } from './destination.js';
import { qualifiedName } from './identifiers.js';

export const PARENT_CURSOR_TABLE = 'ingestion_parents';

export const PARENT_CURSOR_COLUMNS: readonly ColumnSpec[] = [
  { name: 'table_name', type: 'VARCHAR' },
  { name: 'parent_id', type: 'VARCHAR' },
  { name: 'end_time', type: 'VARCHAR' },
  { name: 'pending', type: 'BOOLEAN' },
];

export interface ParentCursor {
  parentId: string;
  /** The window end the parent was read to (template format). */
  endTime: string;
  /** Committed by a run that has not completed yet. */
  pending: boolean;
}

/** What one commit of a child collection's load records. */
export interface ParentProgress {
  /** Parents whose rows this commit completes, with the window end they were read to. */
  done: readonly { parentId: string; endTime: string }[];
  /** The run's last commit: no parent of the table is pending any more. */
  complete: boolean;
  /** Memberships: each completed parent's current members, so the rows of those who left are marked. */
  members?: MemberSets;
  /**
   * `snapshot` mode of a child collection: deletions are marked per parent, not over the whole table.
   * The rows of each `done` parent that this commit does not stage get `_deleted_at`; on the last
   * commit, so do the rows of every parent not in `listed` (a parent deleted upstream).
   */
  snapshot?: { column: string; listed: readonly string[] };
}

/**
 * The members a list or segment has now, per parent (read from its `relationships/profiles`), for the
 * commit to mark the membership rows of the profiles no longer in it with `_deleted_at` (as a snapshot
 * marks what it no longer read): of each parent's rows, exactly the newest row of each current member
 * is live; a `_deleted_at` set earlier is cleared when that member is back in the same row.
 */
export interface MemberSets {
  /** The column holding the parent's id (`list_id`). */
  parentColumn: string;
  /** The column holding the member's own id (`profile_id`). */
  memberColumn: string;
  /** The member ids of each parent checked in this commit. */
  current: ReadonlyMap<string, readonly string[]>;
}

/** The member sets as two parallel columns, with a (parent, null) row for every parent (one without members too). */
export function memberPairs(members: MemberSets): { parents: string[]; members: (string | null)[] } {
  const parents: string[] = [];
  const ids: (string | null)[] = [];
  for (const [parentId, memberIds] of members.current) {
    parents.push(parentId);
    ids.push(null);
    for (const id of memberIds) {
      parents.push(parentId);
      ids.push(id);
    }
  }
  return { parents, members: ids };
}

export interface Statement {
  sql: string;
  params: (string | boolean)[];
}

/** The statements that record `progress` for `table`, inside the commit's transaction. */
export function parentProgressStatements(
  schema: string,
  table: string,
  progress: ParentProgress,
): Statement[] {
  const name = qualifiedName(schema, PARENT_CURSOR_TABLE);
  const statements: Statement[] = [
    {
      sql: `CREATE TABLE IF NOT EXISTS ${name} (table_name VARCHAR, parent_id VARCHAR, end_time VARCHAR, pending BOOLEAN)`,
      params: [],
    },
  ];
  for (const { parentId, endTime } of progress.done) {
    statements.push(
      { sql: `DELETE FROM ${name} WHERE table_name = $1 AND parent_id = $2`, params: [table, parentId] },
      {
        sql: `INSERT INTO ${name} (table_name, parent_id, end_time, pending) VALUES ($1, $2, $3, $4)`,
        params: [table, parentId, endTime, !progress.complete],
      },
    );
  }
  if (progress.complete)
    statements.push({ sql: `UPDATE ${name} SET pending = false WHERE table_name = $1`, params: [table] });
  return statements;
}

/**
 * The parents of `table` read so far, by id; empty when nothing was recorded yet. Creates the table
 * first: several child tables of a schema commit at once, and concurrent CREATEs of one table race
 * in PostgreSQL (the destination's own create waits for the others).
 */
export async function readParentCursors(
  destination: Destination,
  schema: string,
  table: string,
): Promise<Map<string, ParentCursor>> {
  const cursors = new Map<string, ParentCursor>();
  await destination.ensureSchema(schema);
  await destination.createTableIfMissing(schema, PARENT_CURSOR_TABLE, [...PARENT_CURSOR_COLUMNS]);
  const rows = await destination.query(
    `SELECT parent_id, end_time, pending FROM ${qualifiedName(schema, PARENT_CURSOR_TABLE)} WHERE table_name = $1`,
    [table],
  );
  for (const row of rows) {
    const parentId = String(row.parent_id);
    cursors.set(parentId, { parentId, endTime: String(row.end_time), pending: row.pending === true });
  }
  return cursors;
}
