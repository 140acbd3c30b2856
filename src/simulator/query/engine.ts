import type { Collection } from '../data/collection.js';
import type { CursorPos } from './cursor.js';
import { type CompiledCondition, RANGE_OPS } from './filter-eval.js';
import { lowerBound, type Order, orderBy, partitionPoint } from './order.js';

export interface PageRequest {
  conditions: CompiledCondition[];
  /** extra per-record tests (e.g. hide archived campaigns) */
  extra: ((i: number) => boolean)[];
  sortField: string;
  desc: boolean;
  pageSize: number;
  cursor: CursorPos | null;
}

export interface PageResult {
  /** record indices in response order */
  indices: number[];
  hasNext: boolean;
  hasPrev: boolean;
}

function usesOrder(coll: Collection, cond: CompiledCondition, sortField: string): boolean {
  if (!(RANGE_OPS.has(cond.op) || cond.op === 'equals')) return false;
  if (cond.field === sortField) return true;
  return coll.naturalFields.has(cond.field) && coll.naturalFields.has(sortField);
}

/** [lo, hi) of positions (ascending order) that can satisfy the range conditions on the sort field. */
function bounds(coll: Collection, order: Order, req: PageRequest): [number, number] {
  let lo = 0;
  let hi = order.length;
  for (const c of req.conditions) {
    if (!usesOrder(coll, c, req.sortField) || Array.isArray(c.value) || typeof c.value !== 'number') continue;
    const def = coll.field(c.field);
    if (!def) continue;
    if (c.op === 'greater-than' || c.op === 'greater-or-equal' || c.op === 'equals') {
      const p = partitionPoint(order, 0, order.length, (i) => {
        const x = def.get(i);
        return (
          x !== null &&
          (c.op === 'greater-than'
            ? (x as number) > (c.value as number)
            : (x as number) >= (c.value as number))
        );
      });
      lo = Math.max(lo, p);
    }
    if (c.op === 'less-than' || c.op === 'less-or-equal' || c.op === 'equals') {
      const firstNonNull = partitionPoint(order, 0, order.length, (i) => def.get(i) !== null);
      const p = partitionPoint(order, firstNonNull, order.length, (i) => {
        const x = def.get(i) as number;
        return c.op === 'less-than' ? x >= (c.value as number) : x > (c.value as number);
      });
      hi = Math.min(hi, p);
    }
  }
  return [lo, Math.max(lo, hi)];
}

/** One page of matching records in sort order, after (or before) the cursor position. */
export function runPage(coll: Collection, req: PageRequest): PageResult {
  const order = orderBy(coll, req.sortField);
  const [lo, hi] = bounds(coll, order, req);
  const matches = (i: number) => req.conditions.every((c) => c.test(i)) && req.extra.every((t) => t(i));
  const walk = (start: number, step: 1 | -1, limit: number): number[] => {
    const out: number[] = [];
    for (let pos = start; pos >= lo && pos < hi && out.length < limit; pos += step) {
      const i = order.at(pos);
      if (matches(i)) out.push(i);
    }
    return out;
  };
  const cur = req.cursor;
  const keyPos = (inclusive: boolean) =>
    cur ? lowerBound(coll, order, req.sortField, cur.v, cur.id, inclusive) : 0;
  const n = req.pageSize;
  if (!cur) {
    const got = req.desc ? walk(hi - 1, -1, n + 1) : walk(lo, 1, n + 1);
    return { indices: got.slice(0, n), hasNext: got.length > n, hasPrev: false };
  }
  // Forward in response order = ascending for asc sorts, descending for desc sorts.
  const forward = !cur.b;
  const ascending = req.desc ? !forward : forward;
  const got = ascending
    ? walk(Math.max(lo, keyPos(false)), 1, n + 1)
    : walk(Math.min(hi, keyPos(true)) - 1, -1, n + 1);
  const more = got.length > n;
  const page = got.slice(0, n);
  if (forward) return { indices: page, hasNext: more, hasPrev: true };
  return { indices: page.reverse(), hasNext: true, hasPrev: more };
}
