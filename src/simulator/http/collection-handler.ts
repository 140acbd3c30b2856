import {
  CATALOG,
  FIXED_PAGE_SIZE,
  isBefore,
  type Revision,
  type RevisionEntry,
  type ServedCollectionName,
} from '../../klaviyo/endpoints/index.js';
import type { BuildContext, Collection, JsonResource } from '../data/collection.js';
import { type CursorPos, decodeCursor, encodeCursor, invalidCursor } from '../query/cursor.js';
import { runPage } from '../query/engine.js';
import { type CompiledCondition, compileFilter } from '../query/filter-eval.js';
import { parseFilter } from '../query/filter-parser.js';
import { invalidFilter, invalidParam } from './errors.js';
import { pickPaths } from './fieldsets.js';

export interface CollectionRequest {
  endpoint: ServedCollectionName;
  coll: Collection;
  /** The request's path without trailing slash, for links (child collections: with the parent's id). */
  path?: string;
  entry: RevisionEntry;
  revision: Revision;
  /** decoded query params in order */
  params: [string, string][];
  baseUrl: string;
  /** wall clock, for cursor issue time / expiry */
  wallNow: number;
  cursorTtlMs: number | null;
  /** A relationships endpoint: each record as its resource identifier (`{type, id}`) only. */
  identifiersOnly?: boolean;
  /**
   * Benchmarks: the serialized (UTF-8) text of each resource, keyed by its index and shape. With it,
   * a page costs a lookup and a copy per record whatever its boundaries.
   */
  resourceTexts?: Map<string, Buffer>;
}

const CHANNEL_REQUIRED_DETAIL =
  "A channel filter is required. Use equals(messages.channel,'email'), equals(messages.channel,'sms') or equals(messages.channel,'mobile_push').";

const COUPON_OR_PROFILE_REQUIRED_DETAIL =
  "A coupon or profile filter is required. Use equals(coupon.id,'...'), any(coupon.id,[...]), equals(profile.id,'...') or any(profile.id,[...]).";

const COMMA = Buffer.from(',');

const DEFAULT_SORT: Partial<Record<ServedCollectionName, string>> = { events: 'datetime' };

function list(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Serves one page of a collection endpoint as the JSON of a JSON:API document. Throws ApiError for 4xx. */
export function handleCollection(req: CollectionRequest): string | Buffer {
  const { entry, coll, endpoint } = req;
  const single = new Map<string, string>();
  for (const [k, v] of req.params) if (!single.has(k)) single.set(k, v);
  const spec = CATALOG[endpoint];

  // --- include / fields / additional-fields
  const include = new Set<string>();
  const fields = new Map<string, string[]>();
  const additional = new Set<string>();
  for (const [key, value] of single) {
    if (key === 'include') {
      for (const inc of list(value)) {
        if (!entry.include.includes(inc)) {
          throw invalidParam('include', `'${inc}' is not an allowed include parameter for this resource.`);
        }
        include.add(inc);
      }
    } else if (key.startsWith('fields[')) {
      if (!entry.fieldsets.includes(key))
        throw invalidParam(key, `'${key}' is not a valid parameter for this resource.`);
      const type = key.slice(7, -1);
      const allowed = spec.fieldEnums[type];
      const wanted = list(value);
      for (const f of wanted) {
        if (allowed && !allowed.includes(f))
          throw invalidParam(key, `'${f}' is not a valid field for the resource '${type}'.`);
      }
      fields.set(type, wanted);
    } else if (key.startsWith('additional-fields[')) {
      const allowed = entry.additionalFields[key];
      if (!allowed) throw invalidParam(key, `'${key}' is not a valid parameter for this resource.`);
      for (const f of list(value)) {
        if (!allowed.includes(f))
          throw invalidParam(key, `'${f}' is not a valid additional field for this resource.`);
        additional.add(f);
      }
    }
  }

  // --- filter
  const filterText = single.get('filter');
  let conditions: CompiledCondition[] = [];
  if (filterText !== undefined) conditions = compileFilter(parseFilter(filterText), entry, coll);
  const extra: ((i: number) => boolean)[] = [];
  const listed = coll.listedFilter?.() ?? null;
  if (listed) extra.push(listed);
  // "A coupon/coupons or a profile/profiles must be provided as required filter params."
  if (
    endpoint === 'coupon-codes' &&
    !conditions.some((c) => c.field === 'coupon.id' || c.field === 'profile.id')
  ) {
    throw invalidFilter(COUPON_OR_PROFILE_REQUIRED_DETAIL);
  }
  if (endpoint === 'campaigns') {
    if (
      !isBefore(req.revision, '2023-07-15') &&
      !conditions.some((c) => c.field === 'messages.channel' && c.op === 'equals')
    ) {
      throw invalidFilter(CHANNEL_REQUIRED_DETAIL);
    }
    // Archived campaigns only come back when asked for with equals(archived,true).
    if (!conditions.some((c) => c.field === 'archived')) {
      const archived = coll.field('archived');
      if (archived) extra.push((i) => archived.get(i) === false);
    }
  }

  // --- sort
  const sortText = single.get('sort');
  let sortSpec = DEFAULT_SORT[endpoint] ?? 'id';
  if (sortText !== undefined) {
    if (!entry.sort) throw invalidParam('sort', `'sort' is not a valid parameter for this resource.`);
    if (!entry.sort.includes(sortText))
      throw invalidParam('sort', `'${sortText}' is not a valid sort parameter for this resource.`);
    sortSpec = sortText;
  }
  const desc = sortSpec.startsWith('-');
  const sortField = desc ? sortSpec.slice(1) : sortSpec;

  // --- page size
  let pageSize = entry.pageSize?.default ?? FIXED_PAGE_SIZE[endpoint];
  const sizeText = single.get('page[size]');
  if (sizeText !== undefined) {
    const ps = entry.pageSize;
    if (!ps) throw invalidParam('page[size]', `'page[size]' is not a valid parameter for this resource.`);
    const n = Number(sizeText);
    if (!/^\d+$/.test(sizeText.trim()) || n < ps.minimum || n > ps.maximum) {
      throw invalidParam(
        'page[size]',
        `Page size must be an integer between ${ps.minimum} and ${ps.maximum}.`,
      );
    }
    pageSize = n;
  }
  if (endpoint === 'flows' && !entry.pageSize) pageSize = Number.MAX_SAFE_INTEGER;

  // --- cursor
  let cursor: CursorPos | null = null;
  const cursorText = single.get('page[cursor]');
  if (cursorText !== undefined) {
    cursor = decodeCursor(cursorText);
    if (cursor.s !== sortSpec) throw invalidCursor();
    if (req.cursorTtlMs !== null && req.wallNow - cursor.t > req.cursorTtlMs) throw invalidCursor();
  }

  const page = runPage(coll, { conditions, extra, sortField, desc, pageSize, cursor });

  // --- document
  const ctx: BuildContext = { baseUrl: req.baseUrl, revision: req.revision, additional, include };
  const shape = (r: JsonResource): JsonResource => {
    const f = fields.get(r.type);
    return f ? { ...r, attributes: pickPaths(r.attributes, f) } : r;
  };
  const cache = include.size === 0 && req.identifiersOnly !== true ? req.resourceTexts : undefined;
  const shapeKey = cache
    ? `${endpoint}|${req.revision}|${[...additional].sort().join(',')}|${[...fields].map(([t, f]) => `${t}=${f.join(',')}`).join(';')}|`
    : '';
  const dataTexts = cache
    ? page.indices.map((i) => {
        const key = shapeKey + i;
        let text = cache.get(key);
        if (text === undefined) {
          text = Buffer.from(JSON.stringify(shape(coll.resource(i, ctx))), 'utf8');
          cache.set(key, text);
        }
        return text;
      })
    : null;
  const data = dataTexts
    ? []
    : req.identifiersOnly === true
      ? page.indices.map((i) => ({ type: coll.type, id: coll.id(i) }))
      : page.indices.map((i) => shape(coll.resource(i, ctx)));
  const included: JsonResource[] = [];
  if (include.size > 0 && coll.included) {
    const seen = new Set<string>();
    for (const i of page.indices) {
      for (const r of coll.included(i, include, ctx)) {
        const key = `${r.type}:${r.id}`;
        if (seen.has(key)) continue;
        seen.add(key);
        included.push(shape(r));
      }
    }
  }

  const sortDef = coll.field(sortField);
  const keyOf = (i: number, back: boolean): string =>
    encodeCursor({
      s: sortSpec,
      v: sortDef ? sortDef.get(i) : null,
      id: coll.id(i),
      t: req.wallNow,
      ...(back ? { b: 1 as const } : {}),
    });
  const path = `${req.baseUrl}${req.path ?? spec.path}${entry.trailingSlash ? '/' : ''}`;
  const urlWith = (cursorValue: string | null): string => {
    const qs = new URLSearchParams();
    for (const [k, v] of req.params) if (k !== 'page[cursor]') qs.append(k, v);
    if (cursorValue !== null) qs.append('page[cursor]', cursorValue);
    const s = qs.toString();
    return s ? `${path}?${s}` : path;
  };
  const lastIdx = page.indices[page.indices.length - 1];
  const firstIdx = page.indices[0];
  const links: Record<string, string | null> = {
    self: urlWith(cursorText ?? null),
  };
  if (isBefore(req.revision, '2026-04-15')) links.first = urlWith(null);
  links.next = page.hasNext && lastIdx !== undefined ? urlWith(keyOf(lastIdx, false)) : null;
  links.prev = page.hasPrev && firstIdx !== undefined ? urlWith(keyOf(firstIdx, true)) : null;
  if (page.hasPrev && firstIdx === undefined && cursor)
    links.prev = urlWith(encodeCursor({ ...cursor, b: 1 }));

  const doc: Record<string, unknown> = { data, links };
  if (include.size > 0) doc.included = included;
  const text = JSON.stringify(doc);
  // `data` is the first key: splice the cached texts into its empty array.
  if (!dataTexts) return text;
  const parts: Buffer[] = [Buffer.from('{"data":[')];
  dataTexts.forEach((resource, i) => {
    if (i > 0) parts.push(COMMA);
    parts.push(resource);
  });
  parts.push(Buffer.from(`]${text.slice('{"data":[]'.length)}`, 'utf8'));
  return Buffer.concat(parts);
}
