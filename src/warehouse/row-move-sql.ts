/**
 * The SQL of moving staged rows into the table that every dialect writes alike (replace, full loads,
 * merge). The append dedupe is each dialect's own: its fastest set operation differs (DuckDB's anti
 * join with a window range, PostgreSQL's indexed NOT EXISTS).
 */
import { type ColumnType, DELETED_AT_COLUMN } from './destination.js';
import { qualifiedName, quoteIdentifier } from './identifiers.js';
import type { StageColumn } from './stage-schema.js';
import { type RowMove, STAGE_SEQ } from './staged-load.js';

export interface MoveDialect {
  /** The SQL type of a logical type. */
  sqlType(type: ColumnType): string;
  /** Whether a staged column must be cast to reach the table column's type. */
  needsCast(column: StageColumn, tableType: ColumnType): boolean;
  /** An expression reading a text value as a timestamp, NULL when it is not one. */
  safeTimestamp(expression: string): string;
}

export interface MoveSql {
  /** The qualified table name. */
  target: string;
  /** The table's columns receiving the staged ones, quoted, in stage order. */
  targetList: string;
  /** The staged columns by stage name. */
  names: string;
  /** The staged columns, cast where the table's column is wider, named by stage name. */
  casts: string;
  /** Every staged row into the table (replace, full loads). */
  insertAll: string;
  /**
   * Merge (with an id): delete the table's rows of the staged ids, then insert the newest staged version
   * of each id: the greatest window value as a timestamp, then the last staged. Rows without an id are
   * all inserted.
   */
  merge: { delete: string; insert: string } | null;
}

export function moveSql(move: RowMove, stageTable: string, dialect: MoveDialect): MoveSql {
  const { schema, table } = move.target;
  const target = qualifiedName(schema, table);
  const spec = (column: StageColumn) => move.resolved.get(column.name)!;
  const names = move.staged.map((column) => column.stageName).join(', ');
  const targetList = move.staged.map((column) => quoteIdentifier(spec(column).name)).join(', ');
  const casts = move.staged
    .map((column) =>
      dialect.needsCast(column, spec(column).type)
        ? `CAST(${column.stageName} AS ${dialect.sqlType(spec(column).type)}) AS ${column.stageName}`
        : column.stageName,
    )
    .join(', ');
  const { id, window } = move;
  let merge: MoveSql['merge'] = null;
  if (id !== undefined) {
    const newest = window === undefined ? '' : `${dialect.safeTimestamp(window.stageName)} DESC NULLS LAST, `;
    merge = {
      delete: `DELETE FROM ${target} WHERE ${quoteIdentifier(spec(id).name)} IN (SELECT CAST(${id.stageName} AS ${dialect.sqlType(spec(id).type)}) FROM ${stageTable} WHERE ${id.stageName} IS NOT NULL)`,
      insert: `INSERT INTO ${target} (${targetList}) SELECT ${names} FROM (SELECT ${casts}, row_number() OVER (PARTITION BY ${id.stageName} ORDER BY ${newest}${STAGE_SEQ} DESC) AS ki_rn FROM ${stageTable}) s WHERE s.${id.stageName} IS NULL OR s.ki_rn = 1`,
    };
  }
  return {
    target,
    targetList,
    names,
    casts,
    insertAll: `INSERT INTO ${target} (${targetList}) SELECT ${casts} FROM ${stageTable}`,
    merge,
  };
}

/**
 * Which rows a child collection's snapshot marks: those whose parent column is among (`among`) or not
 * among the parent ids, bound as `$2`, `$3`, … after the time.
 */
export interface DeleteScope {
  column: string;
  parentIds: readonly string[];
  among: boolean;
}

/**
 * `snapshot` mode: mark the table's live rows whose id the stage does not hold as deleted upstream
 * (`$1` is the time); with nothing staged (`stagedId` null) every live row is marked. A `scope` limits
 * it to some parents' rows (child collections); an empty `not among` scope limits nothing.
 */
export function markDeletedSql(
  schema: string,
  table: string,
  stageTable: string,
  stagedId: string | null,
  scope?: DeleteScope,
): string {
  const deletedAt = quoteIdentifier(DELETED_AT_COLUMN);
  const missing =
    stagedId === null
      ? ''
      : ` AND NOT EXISTS (SELECT 1 FROM ${stageTable} s WHERE s.${stagedId} = t.${quoteIdentifier('id')})`;
  let parents = '';
  if (scope && (scope.among || scope.parentIds.length > 0)) {
    const list = scope.parentIds.map((_, i) => `$${i + 2}`).join(', ');
    const column = `t.${quoteIdentifier(scope.column)}`;
    parents = scope.among
      ? ` AND ${column} IN (${list || 'NULL'})`
      : ` AND (${column} IS NULL OR ${column} NOT IN (${list}))`;
  }
  return `UPDATE ${qualifiedName(schema, table)} AS t SET ${deletedAt} = $1 WHERE t.${deletedAt} IS NULL${missing}${parents}`;
}

/**
 * Memberships (see `MemberSets`): the statements that mark (`$1`: the time) and clear `_deleted_at` on
 * the rows of the parents listed in `membersTable` (`parent_id`, `member_id`; a (parent, NULL) row per
 * parent). Live: the row is its id's newest (by the window value as a timestamp) and its member is
 * in the parent now.
 */
export function memberMarksSql(
  schema: string,
  table: string,
  membersTable: string,
  columns: { parent: string; member: string; window: string | null },
  safeTimestamp: (expression: string) => string,
): { mark: string; clear: string } {
  const target = qualifiedName(schema, table);
  const deletedAt = quoteIdentifier(DELETED_AT_COLUMN);
  const id = quoteIdentifier('id');
  const parent = quoteIdentifier(columns.parent);
  const window = columns.window === null ? null : quoteIdentifier(columns.window);
  const newest =
    window === null
      ? `SELECT ${id} AS ki_id FROM ${target} WHERE ${parent} IN (SELECT parent_id FROM ${membersTable}) GROUP BY ${id}`
      : `SELECT ${id} AS ki_id, max(${safeTimestamp(window)}) AS ki_newest FROM ${target} WHERE ${parent} IN (SELECT parent_id FROM ${membersTable}) GROUP BY ${id}`;
  const older = window === null ? 'false' : `coalesce(${safeTimestamp(`t.${window}`)} < n.ki_newest, false)`;
  const member = `EXISTS (SELECT 1 FROM ${membersTable} m WHERE m.parent_id = t.${parent} AND m.member_id = t.${quoteIdentifier(columns.member)})`;
  const from = `FROM (${newest}) n WHERE t.${id} = n.ki_id`;
  return {
    mark: `UPDATE ${target} AS t SET ${deletedAt} = $1 ${from} AND t.${deletedAt} IS NULL AND (${older} OR NOT ${member})`,
    clear: `UPDATE ${target} AS t SET ${deletedAt} = NULL ${from} AND t.${deletedAt} IS NOT NULL AND NOT ${older} AND ${member}`,
  };
}
