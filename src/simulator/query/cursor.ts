import type { FieldValue } from '../data/collection.js';
import { invalidParam } from '../http/errors.js';

/** Where a page ended: the sort value and id of the last (or, going back, first) record. */
export interface CursorPos {
  /** sort spec the cursor belongs to, e.g. `-updated` */
  s: string;
  v: FieldValue;
  id: string;
  /** 1 = a `prev` cursor (page before this position) */
  b?: 1;
  /** wall-clock ms when issued (for cursor expiry) */
  t: number;
}

export function encodeCursor(pos: CursorPos): string {
  return Buffer.from(JSON.stringify([pos.s, pos.v, pos.id, pos.b ?? 0, pos.t])).toString('base64');
}

export function invalidCursor(): ReturnType<typeof invalidParam> {
  return invalidParam('page[cursor]', 'Invalid cursor provided');
}

export function decodeCursor(text: string): CursorPos {
  try {
    const raw = JSON.parse(Buffer.from(text, 'base64').toString('utf8')) as unknown;
    if (!Array.isArray(raw) || raw.length !== 5) throw new Error('shape');
    const [s, v, id, b, t] = raw as [unknown, unknown, unknown, unknown, unknown];
    if (typeof s !== 'string' || typeof id !== 'string' || typeof t !== 'number') throw new Error('types');
    if (v !== null && !['string', 'number', 'boolean'].includes(typeof v)) throw new Error('value');
    return { s, v: v as FieldValue, id, t, ...(b === 1 ? { b: 1 as const } : {}) };
  } catch {
    throw invalidCursor();
  }
}
