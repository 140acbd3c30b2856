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
  | 'metric-aggregates';

export const ENDPOINT_NAMES: readonly EndpointName[] = [
  'events',
  'profiles',
  'campaigns',
  'lists',
  'templates',
  'metrics',
  'segments',
  'flows',
  'metric-aggregates',
];

/** A collection endpoint (GET, paged). */
export type CollectionName = Exclude<EndpointName, 'metric-aggregates'>;

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
