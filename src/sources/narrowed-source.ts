import { and, type FilterExpression } from '../klaviyo/filter.js';
import type { SourceDefinition } from './types.js';

/**
 * A source whose every request (time slices included, which the runner plans through `plan` again)
 * also carries `terms` in its filter, e.g. `equals(metric_id,'X')` for a repair of one metric's day.
 * The caller checks the terms are ones the endpoint allows.
 */
export function narrowedSource(
  source: SourceDefinition,
  terms: readonly FilterExpression[],
): SourceDefinition {
  return {
    spec: source.spec,
    flatten: (record, included) => source.flatten(record, included),
    plan(params) {
      return source.plan(params).map((stream) => {
        const own = stream.query.filter;
        // One flat and(...): Klaviyo's filter syntax has no nested and().
        const inner = own?.startsWith('and(') && own.endsWith(')') ? own.slice(4, -1) : own;
        const filter = inner === undefined ? and(...terms) : `and(${[...terms, inner].join(',')})`;
        return { ...stream, query: { ...stream.query, filter } };
      });
    },
  };
}
