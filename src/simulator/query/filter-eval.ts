import type { RevisionEntry } from '../../klaviyo/endpoints/index.js';
import type { Collection, FieldKind, FieldValue } from '../data/collection.js';
import { invalidFilter } from '../http/errors.js';
import type { Condition, Literal } from './filter-parser.js';

export const RANGE_OPS = new Set(['greater-than', 'greater-or-equal', 'less-than', 'less-or-equal']);

/** A validated condition ready to test records by index. */
export interface CompiledCondition {
  op: string;
  field: string;
  /** Comparable literal (datetimes as epoch ms) or list of them for `any`. */
  value: FieldValue | FieldValue[];
  test(i: number): boolean;
}

function literalFor(kind: FieldKind, lit: Literal, field: string): FieldValue {
  const typeError = () =>
    invalidFilter(
      `Invalid filter provided. '${field}' expects a ${kind === 'number' ? 'number' : kind} value.`,
    );
  switch (kind) {
    case 'datetime':
      if (lit.kind === 'datetime') return lit.ms;
      if (lit.kind === 'null') return null;
      throw typeError();
    case 'number':
      if (lit.kind === 'number') return lit.value;
      throw typeError();
    case 'boolean':
      if (lit.kind === 'boolean') return lit.value;
      throw typeError();
    case 'string':
      if (lit.kind === 'string') return lit.value;
      if (lit.kind === 'null') return null;
      throw typeError();
    default:
      throw typeError();
  }
}

/** Checks fields/operators against the revision's allowed map and literal types; returns testers. */
export function compileFilter(
  conds: Condition[],
  entry: RevisionEntry,
  coll: Collection,
): CompiledCondition[] {
  return conds.map((c) => {
    const allowedOps = entry.filterAllowed[c.field];
    if (!allowedOps) throw invalidFilter(`'${c.field}' is not an allowed filter field for this resource.`);
    if (!allowedOps.includes(c.op))
      throw invalidFilter(`'${c.op}' is not an allowed operator for '${c.field}'.`);
    const def = coll.field(c.field);
    if (!def) throw invalidFilter(`'${c.field}' is not an allowed filter field for this resource.`);
    if (c.op === 'has') return { op: c.op, field: c.field, value: null, test: () => true };
    if (!c.value) throw invalidFilter();
    let value: FieldValue | FieldValue[];
    if (c.op === 'any' || c.op === 'contains-any' || c.op === 'contains-all') {
      if (c.value.kind !== 'list') throw invalidFilter(`Invalid filter provided. '${c.op}' expects a list.`);
      value = c.value.items.map((item) => literalFor(def.kind, item, c.field));
    } else {
      value = literalFor(def.kind, c.value, c.field);
    }
    const v = value;
    const get = def.get;
    let test: (i: number) => boolean;
    switch (c.op) {
      case 'equals':
        test = (i) => get(i) === v;
        break;
      case 'greater-than':
        test = (i) => {
          const x = get(i);
          return x !== null && v !== null && (x as number) > (v as number);
        };
        break;
      case 'greater-or-equal':
        test = (i) => {
          const x = get(i);
          return x !== null && v !== null && (x as number) >= (v as number);
        };
        break;
      case 'less-than':
        test = (i) => {
          const x = get(i);
          return x !== null && v !== null && (x as number) < (v as number);
        };
        break;
      case 'less-or-equal':
        test = (i) => {
          const x = get(i);
          return x !== null && v !== null && (x as number) <= (v as number);
        };
        break;
      case 'contains':
        test = (i) => {
          const x = get(i);
          return typeof x === 'string' && typeof v === 'string' && x.includes(v);
        };
        break;
      case 'starts-with':
        test = (i) => {
          const x = get(i);
          return typeof x === 'string' && typeof v === 'string' && x.startsWith(v);
        };
        break;
      case 'ends-with':
        test = (i) => {
          const x = get(i);
          return typeof x === 'string' && typeof v === 'string' && x.endsWith(v);
        };
        break;
      case 'any':
      case 'contains-any':
        test = (i) => (v as FieldValue[]).includes(get(i));
        break;
      default:
        throw invalidFilter(`'${c.op}' is not an allowed operator for '${c.field}'.`);
    }
    return { op: c.op, field: c.field, value, test };
  });
}
