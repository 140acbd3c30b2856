/** What the report endpoints (flow series, campaign values) check first in a request body. */
import { FLOW_SERIES_STATISTICS } from '../data/flow-series.js';
import { ApiError } from './errors.js';

/** A 400 naming the JSON pointer of the bad part of the body, as Klaviyo's are. */
export function badReportBody(pointer: string, detail: string): ApiError {
  return new ApiError(400, 'invalid', 'Invalid input.', detail, { pointer });
}

/** The attributes of a `type` resource object with a non-empty list of supported statistics. */
export function reportAttributes(body: unknown, type: string): Record<string, unknown> {
  const resource = (body as { data?: { type?: unknown; attributes?: Record<string, unknown> } } | null)?.data;
  if (resource?.type !== type || !resource.attributes)
    throw badReportBody('/data', `Request body must be a '${type}' resource object.`);
  const statistics = resource.attributes.statistics;
  if (
    !Array.isArray(statistics) ||
    statistics.length === 0 ||
    !statistics.every((s) => (FLOW_SERIES_STATISTICS as readonly unknown[]).includes(s))
  )
    throw badReportBody(
      '/data/attributes/statistics',
      "'statistics' must be a non-empty list of supported statistics.",
    );
  return resource.attributes;
}
