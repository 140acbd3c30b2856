/**
 * The Klaviyo endpoint catalog's types: per endpoint, its contract (filters, sort, page size, includes,
 * sparse fieldsets, rate limits) for each API revision where it changed. The data is generated into
 * `catalog.generated.ts` by `scripts/gen-endpoint-catalog.ts` (see docs/klaviyo-api/README.md).
 */

/** The endpoints the simulator serves, by short name. */
export type EndpointName =
  | 'events'
  | 'profiles'
  | 'campaigns'
  | 'lists'
  | 'templates'
  | 'metrics'
  | 'segments'
  | 'flows'
  | 'tags'
  | 'tag-groups'
  | 'coupons'
  | 'forms'
  | 'images'
  | 'catalog-items'
  | 'catalog-variants'
  | 'catalog-categories'
  | 'push-tokens'
  | 'metric-aggregates'
  | 'flow-series-reports'
  | 'campaign-values-reports'
  | 'coupon-codes'
  | ChildCollectionName;

/** Collections read once per parent record (`/api/lists/{id}/profiles`): the path holds the parent's id. */
export type ChildCollectionName =
  | 'list-profiles'
  | 'segment-profiles'
  | 'flow-actions'
  | 'flow-messages'
  | 'campaign-messages'
  | MemberIdsName;

/** The ids of a list's or segment's current members (`/api/lists/{id}/relationships/profiles`). */
export type MemberIdsName = 'list-profile-ids' | 'segment-profile-ids';

export const ENDPOINT_NAMES: readonly EndpointName[] = [
  'events',
  'profiles',
  'campaigns',
  'lists',
  'templates',
  'metrics',
  'segments',
  'flows',
  'tags',
  'tag-groups',
  'coupons',
  'forms',
  'images',
  'catalog-items',
  'catalog-variants',
  'catalog-categories',
  'push-tokens',
  'metric-aggregates',
  'flow-series-reports',
  'campaign-values-reports',
  'coupon-codes',
  'list-profiles',
  'segment-profiles',
  'flow-actions',
  'flow-messages',
  'campaign-messages',
  'list-profile-ids',
  'segment-profile-ids',
];

/**
 * Each endpoint's path (without the trailing slash some revisions' documents use) and HTTP method: the
 * one list of served operations, read by the simulator, the OpenAPI trim script and the catalog generator.
 */
export const ENDPOINT_OPERATIONS: Readonly<Record<EndpointName, { path: string; method: 'get' | 'post' }>> = {
  events: { path: '/api/events', method: 'get' },
  profiles: { path: '/api/profiles', method: 'get' },
  campaigns: { path: '/api/campaigns', method: 'get' },
  lists: { path: '/api/lists', method: 'get' },
  templates: { path: '/api/templates', method: 'get' },
  metrics: { path: '/api/metrics', method: 'get' },
  segments: { path: '/api/segments', method: 'get' },
  flows: { path: '/api/flows', method: 'get' },
  tags: { path: '/api/tags', method: 'get' },
  'tag-groups': { path: '/api/tag-groups', method: 'get' },
  coupons: { path: '/api/coupons', method: 'get' },
  forms: { path: '/api/forms', method: 'get' },
  images: { path: '/api/images', method: 'get' },
  'catalog-items': { path: '/api/catalog-items', method: 'get' },
  'catalog-variants': { path: '/api/catalog-variants', method: 'get' },
  'catalog-categories': { path: '/api/catalog-categories', method: 'get' },
  'push-tokens': { path: '/api/push-tokens', method: 'get' },
  'metric-aggregates': { path: '/api/metric-aggregates', method: 'post' },
  'flow-series-reports': { path: '/api/flow-series-reports', method: 'post' },
  'campaign-values-reports': { path: '/api/campaign-values-reports', method: 'post' },
  // Codes of a coupon: a top-level path, the coupon named by a required `equals(coupon.id,…)` filter.
  'coupon-codes': { path: '/api/coupon-codes', method: 'get' },
  'list-profiles': { path: '/api/lists/{id}/profiles', method: 'get' },
  'segment-profiles': { path: '/api/segments/{id}/profiles', method: 'get' },
  'flow-actions': { path: '/api/flows/{id}/flow-actions', method: 'get' },
  'flow-messages': { path: '/api/flow-actions/{id}/flow-messages', method: 'get' },
  'campaign-messages': { path: '/api/campaigns/{id}/campaign-messages', method: 'get' },
  'list-profile-ids': { path: '/api/lists/{id}/relationships/profiles', method: 'get' },
  'segment-profile-ids': { path: '/api/segments/{id}/relationships/profiles', method: 'get' },
};

/** A top-level collection endpoint (GET, paged). */
export type CollectionName = Exclude<EndpointName, ReportName | ChildCollectionName>;

/** The POST endpoints (reports). */
export type ReportName = 'metric-aggregates' | 'flow-series-reports' | 'campaign-values-reports';

/** Any collection endpoint the simulator serves, top-level or per parent. */
export type ServedCollectionName = Exclude<EndpointName, ReportName>;

export interface PageSizeSpec {
  default: number;
  minimum: number;
  maximum: number;
}

/** An endpoint's contract from one revision on (until the next entry). */
export interface RevisionEntry {
  since: string;
  filterAllowed: Record<string, string[]>;
  filterRequired: boolean;
  sort: string[] | null;
  pageSize: PageSizeSpec | null;
  include: string[];
  additionalFields: Record<string, string[]>;
  fieldsets: string[];
  rateLimit: { burst: number; steady: number };
  trailingSlash: boolean;
}

export interface EndpointSpec {
  path: string;
  scopes: string[];
  revisions: RevisionEntry[];
  /** `fields[type]` enums at 2026-07-15, used for every revision. */
  fieldEnums: Record<string, string[]>;
}

export type EndpointCatalog = Record<EndpointName, EndpointSpec>;
