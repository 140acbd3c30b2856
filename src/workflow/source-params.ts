import type { SourceParams } from '../sources/types.js';
import { configError } from '../util/errors.js';
import { parseTimestamp } from '../util/timestamps.js';
import type { LoadedConfig } from './types.js';

function readTime(config: LoadedConfig, key: 'start_time' | 'end_time'): number | null {
  const value = config.in[key];
  if (value === null || value === undefined || value === '') return null;
  const ms = typeof value === 'string' ? parseTimestamp(value) : null;
  if (ms === null) {
    throw configError(`in.${key} '${String(value)}' is not a timestamp ("Invalid timestamp format")`, {
      code: 'TIME_FORMAT',
      file: config.file,
      key: `in.${key}`,
      fix: 'use the template format YYYY-MM-DDTHH:MM:SS.000000 (6 decimals, T separator, no Z)',
    });
  }
  return ms;
}

function additionalFields(value: LoadedConfig['in']['additional_fields']): string[] {
  if (value === null || value === undefined) return [];
  const list = Array.isArray(value) ? value : value.split(',');
  return list.map((item) => item.trim()).filter(Boolean);
}

/** The load config's `in:` section as the sources understand it (connector semantics of TD's Klaviyo input). */
export function sourceParamsFrom(config: LoadedConfig, revision: string): SourceParams {
  const input = config.in;
  const incremental = input.incremental === true;
  const field = input.incremental_field;
  return {
    dataSource: input.data_source,
    windowField: incremental && typeof field === 'string' && field !== '' ? field : null,
    window: incremental
      ? { startMs: readTime(config, 'start_time'), endMs: readTime(config, 'end_time') }
      : { startMs: null, endMs: null },
    revision,
    skipRelatedObjects: input.skip_related_objects === true,
    additionalFields: additionalFields(input.additional_fields),
    ...(typeof input.conversion_metric_id === 'string' && input.conversion_metric_id !== ''
      ? { conversionMetricId: input.conversion_metric_id }
      : {}),
    ...(typeof input.conversion_metric === 'string' && input.conversion_metric !== ''
      ? { conversionMetricName: input.conversion_metric }
      : {}),
  };
}
