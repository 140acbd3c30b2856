import type { Collection, FieldValue } from '../data/collection.js';

/** Compare (value, id) keys: null first, then numbers/strings/booleans natural order, ties on id. */
function compareKeys(av: FieldValue, aid: string, bv: FieldValue, bid: string): number {
  if (av !== bv) {
    if (av === null) return -1;
    if (bv === null) return 1;
    if (av < bv) return -1;
    if (av > bv) return 1;
  }
  return aid < bid ? -1 : aid > bid ? 1 : 0;
}

/** Record indices in ascending (field, id) order. */
export interface Order {
  readonly length: number;
  at(pos: number): number;
}

const cache = new WeakMap<Collection, Map<string, { version: number; size: number; perm: Uint32Array }>>();

export function orderBy(coll: Collection, field: string): Order {
  const size = coll.size();
  if (coll.naturalFields.has(field)) return { length: size, at: (pos) => pos };
  let perField = cache.get(coll);
  if (!perField) {
    perField = new Map();
    cache.set(coll, perField);
  }
  const hit = perField.get(field);
  if (hit && hit.version === coll.version() && hit.size === size)
    return { length: size, at: (pos) => hit.perm[pos] as number };
  const def = coll.field(field);
  const values: FieldValue[] = new Array(size);
  const ids: string[] = new Array(size);
  for (let i = 0; i < size; i++) {
    values[i] = def ? def.get(i) : null;
    ids[i] = coll.id(i);
  }
  const idx = Array.from({ length: size }, (_, i) => i);
  idx.sort((a, b) =>
    compareKeys(values[a] as FieldValue, ids[a] as string, values[b] as FieldValue, ids[b] as string),
  );
  const perm = Uint32Array.from(idx);
  perField.set(field, { version: coll.version(), size, perm });
  return { length: size, at: (pos) => perm[pos] as number };
}

/** First position whose key is > (or >= when `inclusive`) the given key. */
export function lowerBound(
  coll: Collection,
  order: Order,
  field: string,
  value: FieldValue,
  id: string,
  inclusive: boolean,
): number {
  const def = coll.field(field);
  let lo = 0;
  let hi = order.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const i = order.at(mid);
    const c = compareKeys(def ? def.get(i) : null, coll.id(i), value, id);
    if (c < 0 || (c === 0 && !inclusive)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First position where `pred` turns true, assuming it is monotone (false…true) along the order. */
export function partitionPoint(
  order: Order,
  lo: number,
  hi: number,
  pred: (index: number) => boolean,
): number {
  let a = lo;
  let b = hi;
  while (a < b) {
    const mid = (a + b) >>> 1;
    if (pred(order.at(mid))) b = mid;
    else a = mid + 1;
  }
  return a;
}
