/**
 * What a stream declares: one Klaviyo collection endpoint read into one table. Each stream is one
 * small file under `streams/`; `collectionSource` turns the declaration into requests and rows, and
 * test/sources/streams.test.ts checks every declaration against the endpoint catalog generated from
 * Klaviyo's OpenAPI documents, so a stream cannot ask for what the API refuses.
 */
import type { FilterExpression, FilterOperator } from '../klaviyo/filter.js';
import { revisionAtLeast } from '../klaviyo/revisions.js';
import type { Row } from '../records/row.js';
import type { SourceParams } from './types.js';

/** A field the API can window a stream on. */
export interface WindowField {
  /** The attribute name in the API (filters, sort, record attributes), e.g. `updated_at`. */
  apiField: string;
  /** The filter operators the API allows on it. */
  operators: readonly FilterOperator[];
  /** The first revision that accepts `sort=<apiField>`; null when it never sorts. */
  sortableSince: string | null;
}

/** The largest `page[size]` the API allows, from a revision on (before it: no page[size] parameter). */
export interface PageSizeRule {
  max: number;
  since: string;
}

/** Query values the API accepts from a revision on (before it they are not sent). */
export interface ValuesSince {
  names: readonly string[];
  since: string;
}

/** One query among several that together return a stream's records (campaigns per channel). */
export interface Partition {
  label: string;
  terms: FilterExpression[];
}

/**
 * A child collection's parent: the stream whose records are read first (ids only), and how each one
 * names its children: `{id}` in the child's endpoint is the parent's id, or, where the endpoint is
 * top-level (coupon codes), an `equals(<filterField>,'<id>')` filter term.
 */
export interface ParentSpec {
  /** The parent stream (lists for list memberships); it may itself be a child (flow messages). */
  stream: StreamSpec;
  /** The column that records the parent's id on every row (`list_id`). */
  column: string;
  /**
   * When a child belongs to several parents (a profile in many lists): the column that keeps the
   * record's own id, while `id` becomes `<parent id>:<record id>`, the key of the (id, window) dedupe
   * and of merges.
   */
  ownIdColumn?: string;
  /**
   * Memberships: the collection of each parent's current member ids (`/api/lists/{id}/relationships/profiles`),
   * read whole every run after the parent's rows, so the rows of members who left are marked
   * `_deleted_at` (the ids are matched with `ownIdColumn`).
   */
  memberIds?: StreamSpec;
  /** The filter field that names the parent (`coupon.id`) when the endpoint has no `{id}`. */
  filterField?: string;
}

/**
 * A report read by POST (reports have their own tight rate tier): one request per parent for a range
 * of whole UTC days, answered with daily values. Each run re-reads a trailing period (the datasource's
 * `lookback`) since Klaviyo revises recent days; rows are keyed by date and ids, so `mode: merge`
 * replaces a revised day instead of adding it again.
 */
export interface ReportSpec {
  /** The request body for [startMs, endMs) (startMs on a UTC midnight) of one parent (if any). */
  body(startMs: number, endMs: number, parentId: string | undefined, params: SourceParams): unknown;
  /**
   * The daily rows of one response, each with `id` = `<parent id>:<date>`; `range` is the request's
   * (reports without a daily breakdown date their rows by it).
   */
  rows(document: unknown, parentId: string | undefined, range: { startMs: number; endMs: number }): Row[];
  /** The longest range one request may cover. */
  maxDays: number;
  /** `in:` keys of the load config the report cannot do without (`validate` checks them). */
  requires?: readonly 'conversion_metric_id'[];
}

export interface StreamSpec {
  /** `data_source` in the load config. */
  name: string;
  /** The collection path, without trailing slash. */
  endpoint: string;
  /** JSON:API `type` of the records. */
  resourceType: string;
  /**
   * Keyed by the connector field name (`incremental_field_connector`, e.g. campaigns `updated`), which
   * can differ from the API attribute (`updated_at`). Empty for full loads (metrics).
   */
  windowFields: Readonly<Record<string, WindowField>>;
  /** The field the stream windows on when the load config names none (events: `datetime`). */
  implicitWindowField?: string;
  /** Null when the endpoint has no `page[size]` parameter at any revision we support. */
  pageSize: PageSizeRule | null;
  /** Related resources to `include` unless the load config says `skip_related_objects: true`. */
  include?: ValuesSince;
  /** Attributes of included resources copied onto the row, by relationship (`profile_email`). */
  relatedColumns?: Readonly<Record<string, readonly string[]>>;
  /**
   * `additional-fields[<resourceType>]` always asked for; the load config's `additional_fields` add
   * to it. Streams without it ignore `additional_fields`.
   */
  additionalFields?: ValuesSince;
  /** Queries that together cover the stream at a revision (default: one, unfiltered but for the window). */
  partitions?: (revision: string) => readonly Partition[];
  /** A child collection: read once per record of its parent, resuming by parent after a failure. */
  parent?: ParentSpec;
  /** A POST report instead of a collection (`endpoint` is the report's path). */
  report?: ReportSpec;
  /**
   * The first revision the stream can be read at (its filter field or endpoint is newer), among the
   * revisions whose OpenAPI documents docs/klaviyo-api/ holds; unset: every revision.
   */
  since?: string;
}

export function windowField(
  apiField: string,
  operators: readonly FilterOperator[],
  sortableSince: string | null = '',
): WindowField {
  return { apiField, operators, sortableSince };
}

/**
 * `updated` and `created`, the window fields of most Klaviyo objects, with the same operators and
 * first sortable revision; `updated` first, as the templates use it.
 */
export function updatedAndCreated(
  operators: readonly FilterOperator[],
  sortableSince: string | null = '',
): Record<'updated' | 'created', WindowField> {
  return {
    updated: windowField('updated', operators, sortableSince),
    created: windowField('created', operators, sortableSince),
  };
}

/** All four comparisons (events, campaigns). */
export const RANGE_OPERATORS: readonly FilterOperator[] = [
  'greater-or-equal',
  'greater-than',
  'less-or-equal',
  'less-than',
];

/** Whether the revision lets us ask for ascending order on this field. */
export function canSort(field: WindowField, revision: string): boolean {
  return field.sortableSince !== null && revisionAtLeast(revision, field.sortableSince);
}

/** The values a revision accepts (none before their first revision). */
export function valuesAt(values: ValuesSince | undefined, revision: string): readonly string[] {
  return values !== undefined && revisionAtLeast(revision, values.since) ? values.names : [];
}

export function maxPageSize(spec: StreamSpec, revision: string): number | null {
  return spec.pageSize !== null && revisionAtLeast(revision, spec.pageSize.since) ? spec.pageSize.max : null;
}
