/**
 * A report's conversion metric named in the load config (`conversion_metric: Placed Order`) instead of
 * by id: looked up in `/api/metrics` when the report runs, so `init` can write a load config that runs
 * as it is. The name must match exactly one metric (two integrations can both send `Placed Order`).
 */
import { collectionSource } from '../sources/collection-source.js';
import { metrics } from '../sources/streams/metrics.js';
import type { SourceParams } from '../sources/types.js';
import { configError } from '../util/errors.js';
import type { AccountFetcher } from './types.js';

/** `params` with `conversionMetricId` set from `conversionMetricName` when only the name is given. */
export async function resolveConversionMetric(
  params: SourceParams,
  fetcher: AccountFetcher,
  signal?: AbortSignal,
): Promise<SourceParams> {
  const name = params.conversionMetricName;
  if (params.conversionMetricId || name === undefined) return params;
  const full: SourceParams = {
    ...params,
    dataSource: metrics.name,
    windowField: null,
    window: { startMs: null, endMs: null },
    skipRelatedObjects: true,
    additionalFields: [],
  };
  const found: { id: string; integration: string }[] = [];
  const names = new Set<string>();
  for (const stream of collectionSource(metrics).plan(full)) {
    for await (const page of fetcher.paginate(stream.path, stream.query, signal ? { signal } : {})) {
      for (const record of page.data) {
        const attributes = (record.attributes ?? {}) as { name?: unknown; integration?: { name?: unknown } };
        if (typeof attributes.name === 'string') names.add(attributes.name);
        if (attributes.name === name)
          found.push({
            id: record.id,
            integration: String(attributes.integration?.name ?? 'no integration'),
          });
      }
    }
  }
  if (found.length === 1) return { ...params, conversionMetricId: found[0]!.id };
  const message =
    found.length === 0
      ? `conversion_metric '${name}' is not a metric of this account (it has ${names.size}: ${[...names].slice(0, 8).join(', ')}${names.size > 8 ? ', …' : ''})`
      : `conversion_metric '${name}' names ${found.length} metrics: ${found.map((m) => `${m.id} (${m.integration})`).join(', ')}`;
  throw configError(message, {
    code: 'CONVERSION_METRIC_NAME',
    key: 'in.conversion_metric',
    fix:
      found.length === 0
        ? 'set conversion_metric to one of the names above, or conversion_metric_id: <metric id> under in:'
        : 'set conversion_metric_id: <one of these ids> under in: instead',
  });
}
