import type { Resource } from '../klaviyo/json-api.js';
import type { Row } from '../records/row.js';
import type { StreamSpec } from './stream.js';

export type { Resource };

/** One page of a collection response, as the sources read it. */
export interface ResourcePage {
  data: Resource[];
  included: Resource[];
  /** `links.next`, null on the last page. */
  nextUrl: string | null;
}

/** The part of the HTTP client the sources use: stream pages of one collection query. */
export interface PageFetcher {
  paginate(
    path: string,
    query: Record<string, string>,
    options?: {
      signal?: AbortSignal;
      /** Object and array attributes as `RawJson`: for records that are only flattened and stored. */
      rawJsonAttributes?: boolean;
    },
  ): AsyncIterable<ResourcePage>;
}

/** A time window: start inclusive, end exclusive, epoch ms; null means unbounded. */
export interface TimeWindow {
  startMs: number | null;
  endMs: number | null;
}

/** The `in:` parameters of a load config that shape the requests, already resolved. */
export interface SourceParams {
  dataSource: string;
  /** The connector field (`incremental_field_connector`), null for full loads (metrics). */
  windowField: string | null;
  window: TimeWindow;
  revision: string;
  /** `skip_related_objects` (events): true means no `include`. Default true. */
  skipRelatedObjects: boolean;
  /** Extra `additional-fields[...]` the user asked for (e.g. profiles' predictive_analytics). */
  additionalFields: string[];
  /** `conversion_metric_id` of the load config: the metric reports count conversions of. */
  conversionMetricId?: string;
  /** `conversion_metric` of the load config: that metric by name, when no id is given. */
  conversionMetricName?: string;
}

/**
 * One collection query. Sources whose API lacks an exact operator ask for a slightly wider range,
 * and `inWindow` cuts it exactly to the window on our side.
 */
export interface RequestStream {
  /** e.g. `campaigns email archived=false`. */
  label: string;
  path: string;
  query: Record<string, string>;
  /** True when records come back in ascending window-field order. */
  ascending: boolean;
  /**
   * True when any sub-range of the window can be asked for with the same query (ascending, both ends
   * in the filter): the runner may then cut the window into time slices read in parallel.
   */
  sliceable: boolean;
  /** The record's window-field value in epoch ms (null without a window field or value); read once per record. */
  windowValueMs: (record: Resource) => number | null;
  /** Client-side cut on that value: keep only records inside the window (an unreadable value is kept). */
  inWindow: (valueMs: number | null) => boolean;
  /** With ascending order: true once a value lies past the window end, so paging can stop. */
  pastEnd: (valueMs: number | null) => boolean;
}

export interface SourceDefinition {
  spec: StreamSpec;
  /**
   * The requests that together return every record of the window exactly once; for a child collection
   * those of one parent (`parentId`; without it the paths keep `{id}`, as a dry run shows them).
   */
  plan(params: SourceParams, parentId?: string): RequestStream[];
  /** A record to one table row (without `time`, which the runner adds); children record their parent. */
  flatten(record: Resource, included: ReadonlyMap<string, Resource>, parentId?: string): Row;
}
