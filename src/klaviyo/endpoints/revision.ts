import { CATALOG } from './catalog.generated.js';
import type { EndpointName, RevisionEntry } from './types.js';

export interface Revision {
  /** `YYYY-MM-DD` */
  date: string;
  pre: boolean;
}

const REVISION_PATTERN = /^(\d{4})-(\d{2})-(\d{2})(\.pre)?$/;

/** Parses a `revision` header (`YYYY-MM-DD` or `YYYY-MM-DD.pre`); null when malformed. */
export function parseRevision(header: string | undefined): Revision | null {
  if (!header) return null;
  const m = REVISION_PATTERN.exec(header.trim());
  if (!m) return null;
  const [, y, mo, d, pre] = m;
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d));
  const back = new Date(ms);
  if (back.getUTCMonth() + 1 !== Number(mo) || back.getUTCDate() !== Number(d)) return null;
  return { date: `${y}-${mo}-${d}`, pre: pre !== undefined };
}

/**
 * Endpoints that did not exist at the oldest revision we know (2022-10-17): before their first entry
 * they are absent, not the first entry's contract.
 */
const NEWER_THAN_FIRST_REVISION: ReadonlySet<EndpointName> = new Set([
  'campaigns',
  'coupons',
  'forms',
  'images',
  'push-tokens',
]);

/**
 * The endpoint contract in force at a revision: the newest entry not after it. Revisions older than
 * the first known one use the first; null when the endpoint did not exist yet (campaigns before 2023-02-22; the
 * endpoints first seen in a later document before the first revision it shows them).
 */
export function entryFor(endpoint: EndpointName, revision: Revision): RevisionEntry | null {
  const entries = CATALOG[endpoint].revisions;
  let found: RevisionEntry | null = null;
  for (const entry of entries) {
    if (entry.since <= revision.date) found = entry;
  }
  if (!found && !NEWER_THAN_FIRST_REVISION.has(endpoint) && entries[0]) found = entries[0];
  return found;
}

/** Page size when the revision has no `page[size]` parameter (fixed server page). */
export const FIXED_PAGE_SIZE: Record<EndpointName, number> = {
  events: 200,
  profiles: 20,
  campaigns: 100,
  lists: 10,
  templates: 10,
  metrics: 200,
  segments: 10,
  flows: 50,
  // The documents' "a maximum of N per request" where a revision has no page[size] parameter; coupons
  // say nothing and take their later page[size] default.
  tags: 50,
  'tag-groups': 25,
  coupons: 100,
  forms: 20,
  images: 20,
  'catalog-items': 100,
  'catalog-variants': 100,
  'catalog-categories': 100,
  'push-tokens': 20,
  'metric-aggregates': 500,
  'flow-series-reports': 500,
  'campaign-values-reports': 500,
  // 2025-10-15 has no page[size] parameter; its later default.
  'coupon-codes': 100,
  'list-profiles': 20,
  'segment-profiles': 20,
  'flow-actions': 50,
  'flow-messages': 50,
  // No page[size] parameter: a campaign has one message per channel.
  'campaign-messages': 50,
  // No page[size] parameter in the 2023-02-22 document; the later default.
  'list-profile-ids': 20,
  'segment-profile-ids': 20,
};

export function isBefore(revision: Revision, date: string): boolean {
  return revision.date < date;
}

/** An endpoint's documented limits at the newest revision (Klaviyo raised limits for all revisions). */
export function newestRateLimit(endpoint: EndpointName): { burst: number; steady: number } {
  const entries = CATALOG[endpoint].revisions;
  return (entries[entries.length - 1] as RevisionEntry).rateLimit;
}
