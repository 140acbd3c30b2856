import { equals, type FilterExpression } from '../../klaviyo/filter.js';
import type { Partition } from '../stream.js';

/** Archived objects only come back when asked for with equals(archived,true): query both. */
export function archivedPartitions(prefix: string, terms: readonly FilterExpression[] = []): Partition[] {
  return [false, true].map((archived) => ({
    label: `${prefix} archived=${archived}`,
    terms: [...terms, equals('archived', archived)],
  }));
}
