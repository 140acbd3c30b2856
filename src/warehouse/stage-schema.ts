/**
 * The evolving column set of one load's staging table: one column per record key seen so far, each
 * with the widest type its values needed. Pure bookkeeping; the destination turns the changes it
 * reports into DDL on the staging table before appending the batch.
 */
import type { Row } from '../records/row.js';
import type { ColumnType } from './destination.js';
import { columnNameForKey, foldIdentifier } from './identifiers.js';
import { inferType, widenType } from './schema-evolution.js';

export interface StageColumn {
  /** The record key the values come from. */
  readonly key: string;
  /** The table column name (the key, made unique case-insensitively within the load). */
  readonly name: string;
  /** Positional column name inside the staging table (`c0`, `c1`, ...), safe in any SQL. */
  readonly stageName: string;
  /** Widest type seen; null while only nulls have been seen. */
  type: ColumnType | null;
  /** The key is also an Object.prototype member (`constructor`, ...): read it with Object.hasOwn. */
  readonly inherited: boolean;
}

export interface StageSchemaChanges {
  added: StageColumn[];
  retyped: StageColumn[];
}

export class StageSchema {
  readonly columns: StageColumn[] = [];
  private readonly byKey = new Map<string, StageColumn>();
  private readonly folded = new Set<string>();

  /** Registers the keys and types of `rows`; returns what changed (empty lists when nothing did). */
  observe(rows: readonly Row[]): StageSchemaChanges {
    const added: StageColumn[] = [];
    const retyped = new Set<StageColumn>();
    for (const row of rows) {
      for (const key in row) {
        let column = this.byKey.get(key);
        const value = row[key];
        if (column === undefined) {
          column = this.register(key);
          added.push(column);
        }
        if (value === null || value === undefined) continue;
        const type = inferType(value);
        if (type === column.type) continue;
        const widened = widenType(column.type, type);
        if (widened !== column.type) {
          column.type = widened;
          retyped.add(column);
        }
      }
    }
    return { added, retyped: [...retyped].filter((column) => !added.includes(column)) };
  }

  get(key: string): StageColumn | undefined {
    return this.byKey.get(key);
  }

  private register(key: string): StageColumn {
    const base = columnNameForKey(key);
    let name = base;
    for (let n = 2; this.folded.has(foldIdentifier(name)); n++) name = `${base}__${n}`;
    this.folded.add(foldIdentifier(name));
    const column: StageColumn = {
      key,
      name,
      stageName: `c${this.columns.length}`,
      type: null,
      inherited: key in Object.prototype,
    };
    this.columns.push(column);
    this.byKey.set(key, column);
    return column;
  }
}
