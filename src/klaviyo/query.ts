/**
 * Query strings for Klaviyo's JSON:API parameters. Values are URI-encoded (so the `+` of an
 * offset is `%2B`, never a space on the server); `,` `:` `(` `)` `'` `[` `]` stay readable.
 * Arrays are comma-joined (`explode: false` in the OpenAPI documents).
 */
import type { FilterExpression } from './filter.js';

export type QueryScalar = string | number | boolean;
export type QueryValue = QueryScalar | readonly QueryScalar[] | null | undefined;

export interface QueryParams {
  /** One expression, or several (an implicit AND, comma-joined). */
  filter?: FilterExpression | string | readonly (FilterExpression | string)[] | undefined;
  /** `sort=updated` or `-updated`. */
  sort?: string | readonly string[] | undefined;
  include?: string | readonly string[] | undefined;
  /** Sparse fieldsets: `{event: ['datetime', 'uuid']}` → `fields[event]=datetime,uuid`. */
  fields?: Readonly<Record<string, readonly string[] | string>> | undefined;
  /** `{profile: ['subscriptions']}` → `additional-fields[profile]=subscriptions`. */
  additionalFields?: Readonly<Record<string, readonly string[] | string>> | undefined;
  'page[size]'?: number | undefined;
  'page[cursor]'?: string | undefined;
  /** Anything else, written as given (`key=value`). */
  [key: string]: unknown;
}

/** encodeURIComponent, then put back the characters that are safe and readable in a query. */
export function encodeQueryComponent(text: string): string {
  return encodeURIComponent(text)
    .replace(/%2C/gi, ',')
    .replace(/%3A/gi, ':')
    .replace(/%5B/gi, '[')
    .replace(/%5D/gi, ']')
    .replace(/%24/g, '$');
}

function joinValue(value: QueryValue): string | null {
  if (value === null || value === undefined) return null;
  if (Array.isArray(value)) return value.length === 0 ? null : value.map(String).join(',');
  return String(value);
}

function pair(key: string, value: string): string {
  return `${encodeQueryComponent(key)}=${encodeQueryComponent(value)}`;
}

/**
 * `buildQuery({filter, sort, include, fields: {event: [...]}, 'page[size]': n, additionalFields})`
 * → `filter=…&sort=…&include=…&fields[event]=…&additional-fields[profile]=…&page[size]=n`
 * (no leading `?`; empty when nothing is set). Keys keep the order given.
 */
export function buildQuery(params: QueryParams | undefined): string {
  if (!params) return '';
  const parts: string[] = [];
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null) continue;
    if (key === 'fields' || key === 'additionalFields') {
      const prefix = key === 'fields' ? 'fields' : 'additional-fields';
      for (const [type, list] of Object.entries(value as Record<string, readonly string[] | string>)) {
        const joined = joinValue(list);
        if (joined !== null) parts.push(pair(`${prefix}[${type}]`, joined));
      }
      continue;
    }
    if (typeof value === 'object' && !Array.isArray(value)) {
      throw new TypeError(`query parameter '${key}' must be a string, number, boolean or array`);
    }
    const joined = joinValue(value as QueryValue);
    if (joined !== null) parts.push(pair(key, joined));
  }
  return parts.join('&');
}

/** `path` + `?` + query, or `&` when `path` already has a query. */
export function appendQuery(pathOrUrl: string, query: string): string {
  if (!query) return pathOrUrl;
  return `${pathOrUrl}${pathOrUrl.includes('?') ? '&' : '?'}${query}`;
}
