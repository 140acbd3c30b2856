/**
 * The streams `init --streams` can add beside the templates' six: for each, its datasource entry
 * (appended to `inc_datasources`) and its load config. Incremental streams use the standard (Type 1)
 * load config on their `updated` field; streams the API cannot filter by time are a full read each run
 * (the metrics config) in mode `snapshot`, which marks what Klaviyo deleted in `_deleted_at`. Child
 * collections window on their own field per parent (memberships with a lookback for late joins);
 * campaign messages are read whole and merged; reports re-read their last days (`lookback`) and merge,
 * and name their conversion metric (`Placed Order`) in the load config.
 */

/** The templates' `default_start_time` of inc datasources. */
const DEFAULT_INC_START = '2025-09-01T00:00:00.000000';

export interface StreamTemplate {
  /** `data_source` (the datasource's `name`). */
  name: string;
  table: string;
  /** Table column and API field of the window; null for a full read. */
  window: { column: string; connector: string } | null;
  mode: 'append' | 'snapshot' | 'merge';
  /** The datasource's `lookback` (late memberships, revised report days). */
  lookback?: string;
  /** Reports: `in.conversion_metric` of the load config, the metric conversions count by name. */
  conversionMetric?: string;
  /**
   * `default_start_time` this many days before the day `init` runs, instead of the templates' date:
   * for a report that costs a request per day (campaign values: 225 a day at most).
   */
  startDaysBack?: number;
}

const incremental = (name: string, column: string, connector = column): StreamTemplate => ({
  name,
  table: `klaviyo_${name}`,
  window: { column, connector },
  mode: 'append',
});
const snapshot = (name: string): StreamTemplate => ({
  name,
  table: `klaviyo_${name}`,
  window: null,
  mode: 'snapshot',
});

/** A child collection windowed on `field` per parent. */
const child = (name: string, field: string, lookback?: string): StreamTemplate => ({
  ...incremental(name, field),
  ...(lookback ? { lookback } : {}),
});
/** A daily report: whole days from each run's last end less two, merged on date and ids. */
const report = (name: string, conversionMetric?: string): StreamTemplate => ({
  name,
  table: `klaviyo_${name}`,
  window: { column: 'date', connector: 'date' },
  mode: 'merge',
  lookback: '2d',
  ...(conversionMetric ? { conversionMetric } : {}),
});

/** In the order `--streams all` writes them. */
export const EXTRA_STREAMS: readonly StreamTemplate[] = [
  incremental('segments', 'updated'),
  incremental('flows', 'updated'),
  incremental('forms', 'updated_at', 'updated'),
  incremental('images', 'updated_at', 'updated'),
  snapshot('tags'),
  snapshot('tag_groups'),
  snapshot('coupons'),
  snapshot('catalog_items'),
  snapshot('catalog_variants'),
  snapshot('catalog_categories'),
  snapshot('push_tokens'),
  snapshot('global_exclusions'),
  child('list_memberships', 'joined_group_at', '2d'),
  child('segment_memberships', 'joined_group_at', '2d'),
  child('flow_actions', 'updated'),
  child('flow_messages', 'updated'),
  // No filter or sort: read whole per campaign each run, one row per message.
  { name: 'campaign_messages', table: 'klaviyo_campaign_messages', window: null, mode: 'merge' },
  snapshot('coupon_codes'),
  report('metric_aggregates_daily'),
  report('flow_series_daily', 'Placed Order'),
  // One request per day: its first run reads 30 days, not every day since the templates' date.
  { ...report('campaign_values_daily', 'Placed Order'), startDaysBack: 30 },
];

export function loadConfigFile(stream: StreamTemplate): string {
  return `${stream.table}_load.yml`;
}

const DAY_MS = 86_400_000;

/** The stream's entry in `inc_datasources`, laid out like the templates' entries; `nowMs`: when init runs. */
export function datasourceEntry(stream: StreamTemplate, nowMs = Date.now()): string {
  const start =
    stream.startDaysBack === undefined
      ? DEFAULT_INC_START
      : `${new Date((Math.floor(nowMs / DAY_MS) - stream.startDaysBack) * DAY_MS).toISOString().slice(0, 10)}T00:00:00.000000`;
  return `
  - name: ${stream.name}
    table_name: ${stream.table}
    config_file: ${loadConfigFile(stream)}
    incremental_field:${stream.window ? ` ${stream.window.column}` : ''}
    incremental_field_connector:${stream.window ? ` ${stream.window.connector}` : ''}
    default_start_time: "${start}"
    workflow_name: klaviyo_ingest.dig
    mode: ${stream.mode}
${stream.lookback ? `    lookback: ${stream.lookback}\n` : ''}`;
}

/** The templates' six, which every project has. */
export const SEED_STREAMS: readonly string[] = [
  'events',
  'templates',
  'campaigns',
  'lists',
  'profiles',
  'metrics',
];
