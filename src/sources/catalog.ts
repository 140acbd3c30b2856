/**
 * What the Klaviyo API allows per data source (revision 2026-07-15 unless noted), as data.
 * Used by `validate` (is this incremental field filterable?), by the sources (which operators to
 * send, how to sort, page size) and by the rate limiter (tier). Facts: shared/klaviyo-api/FACTS.md §2-3.
 */

export type FilterOperator = 'equals' | 'greater-or-equal' | 'greater-than' | 'less-or-equal' | 'less-than';

export type RateTier = 'XS' | 'S' | 'M' | 'L' | 'XL';

export const RATE_TIERS: Record<RateTier, { burstPerSecond: number; steadyPerMinute: number }> = {
  XS: { burstPerSecond: 1, steadyPerMinute: 15 },
  S: { burstPerSecond: 3, steadyPerMinute: 60 },
  M: { burstPerSecond: 10, steadyPerMinute: 150 },
  L: { burstPerSecond: 75, steadyPerMinute: 750 },
  XL: { burstPerSecond: 350, steadyPerMinute: 3500 },
};

export interface WindowField {
  /** The attribute name in the API (filters, sort, record attributes), e.g. `updated_at`. */
  apiField: string;
  /** The column the templates use in the table; the same as apiField for every source. */
  tableColumn: string;
  operators: readonly FilterOperator[];
  /** Whether `sort=<apiField>` is accepted (ascending order lets us checkpoint in window order). */
  sortable: boolean;
  /** The first revision that has the sort parameter, when it came later than the endpoint. */
  sortableSince?: string;
}

/** Whether the revision lets us ask for ascending order on this field. */
export function canSort(field: WindowField, revision: string): boolean {
  return field.sortable && revision.slice(0, 10) >= (field.sortableSince ?? '');
}

export interface SourceCatalogEntry {
  /** `data_source` in the load config. */
  dataSource: string;
  endpoint: string;
  /** JSON:API `type` of the records. */
  resourceType: string;
  /**
   * Keyed by the connector field name (`incremental_field_connector`, e.g. campaigns `updated`),
   * which can differ from the API attribute (`updated_at`).
   */
  windowFields: Readonly<Record<string, WindowField>>;
  /** The field events-like sources window on when the load config names no incremental_field. */
  implicitWindowField: string | null;
  rateTier: RateTier;
  /** Largest page[size] the revision allows, or null when the endpoint has no page[size] parameter. */
  maxPageSize(revision: string): number | null;
  /** The sources that need a filter on every request (campaigns: a channel). */
  requiredFilterNote?: string;
}

const BOTH_WAYS: readonly FilterOperator[] = [
  'greater-or-equal',
  'greater-than',
  'less-or-equal',
  'less-than',
];
const WITH_EQUALS: readonly FilterOperator[] = ['equals', ...BOTH_WAYS];

function field(apiField: string, operators: readonly FilterOperator[], sortable = true): WindowField {
  return { apiField, tableColumn: apiField, operators, sortable };
}

/**
 * Lists and segments: `created` / `updated` filter with `greater-than` only, and sort only since
 * 2024-05-15 (before that a window is staged whole).
 */
function greaterThanOnly(): Record<string, WindowField> {
  const since = { sortableSince: '2024-05-15' };
  return {
    updated: { ...field('updated', ['greater-than']), ...since },
    created: { ...field('created', ['greater-than']), ...since },
  };
}

const atLeast = (revision: string, since: string) => revision.slice(0, 10) >= since;

export const SOURCE_CATALOG: Readonly<Record<string, SourceCatalogEntry>> = {
  events: {
    dataSource: 'events',
    endpoint: '/api/events',
    resourceType: 'event',
    windowFields: { datetime: field('datetime', BOTH_WAYS) },
    implicitWindowField: 'datetime',
    rateTier: 'XL',
    maxPageSize: (revision) => (atLeast(revision, '2026-01-15') ? 1000 : null),
  },
  profiles: {
    dataSource: 'profiles',
    endpoint: '/api/profiles',
    resourceType: 'profile',
    windowFields: {
      updated: field('updated', ['greater-than', 'less-than']),
      created: field('created', ['greater-than', 'less-than']),
    },
    implicitWindowField: null,
    rateTier: 'L',
    maxPageSize: () => 100,
  },
  campaigns: {
    dataSource: 'campaigns',
    endpoint: '/api/campaigns',
    resourceType: 'campaign',
    // The connector names them `created` / `updated`; the API and the table say `created_at` / `updated_at`.
    windowFields: {
      updated: field('updated_at', BOTH_WAYS),
      created: field('created_at', BOTH_WAYS),
      scheduled: field('scheduled_at', BOTH_WAYS),
    },
    implicitWindowField: null,
    rateTier: 'M',
    maxPageSize: (revision) => (atLeast(revision, '2026-04-15') ? 100 : null),
    requiredFilterNote: "every request needs equals(messages.channel,'email'|'sms'|'mobile_push')",
  },
  lists: {
    dataSource: 'lists',
    endpoint: '/api/lists',
    resourceType: 'list',
    windowFields: greaterThanOnly(),
    implicitWindowField: null,
    rateTier: 'L',
    maxPageSize: (revision) => (atLeast(revision, '2026-04-15') ? 10 : null),
  },
  templates: {
    dataSource: 'templates',
    endpoint: '/api/templates',
    resourceType: 'template',
    windowFields: { updated: field('updated', WITH_EQUALS), created: field('created', WITH_EQUALS) },
    implicitWindowField: null,
    rateTier: 'L',
    maxPageSize: (revision) => (atLeast(revision, '2026-04-15') ? 10 : null),
  },
  metrics: {
    dataSource: 'metrics',
    endpoint: '/api/metrics',
    resourceType: 'metric',
    windowFields: {},
    implicitWindowField: null,
    rateTier: 'M',
    maxPageSize: () => null,
  },
  segments: {
    dataSource: 'segments',
    endpoint: '/api/segments',
    resourceType: 'segment',
    windowFields: greaterThanOnly(),
    implicitWindowField: null,
    rateTier: 'L',
    maxPageSize: (revision) => (atLeast(revision, '2026-04-15') ? 10 : null),
  },
  flows: {
    dataSource: 'flows',
    endpoint: '/api/flows',
    resourceType: 'flow',
    windowFields: { updated: field('updated', WITH_EQUALS), created: field('created', WITH_EQUALS) },
    implicitWindowField: null,
    rateTier: 'S',
    maxPageSize: () => 50,
  },
};

export function catalogEntry(dataSource: string): SourceCatalogEntry | undefined {
  return Object.hasOwn(SOURCE_CATALOG, dataSource) ? SOURCE_CATALOG[dataSource] : undefined;
}

/** The newest revision we know and default to; the templates' 2023-02-22 is retired. */
export const DEFAULT_REVISION = '2026-07-15';

/** Revisions Klaviyo has retired (2 years after release): sent as given, with a warning. */
export function isRetiredRevision(revision: string, todayIso: string): boolean {
  const released = Date.parse(`${revision.slice(0, 10)}T00:00:00Z`);
  const today = Date.parse(`${todayIso.slice(0, 10)}T00:00:00Z`);
  if (Number.isNaN(released) || Number.isNaN(today)) return false;
  return today - released > 2 * 365.25 * 24 * 3600 * 1000;
}
