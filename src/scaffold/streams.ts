/**
 * The streams `init --streams` can add beside the templates' six: for each, its datasource entry
 * (appended to `inc_datasources`) and its load config. Incremental streams use the standard (Type 1)
 * load config on their `updated` field; streams the API cannot filter by time are a full read each run
 * (the metrics config) in mode `snapshot`, which marks what Klaviyo deleted in `_deleted_at`.
 */

/** The templates' `default_start_time` of inc datasources. */
const DEFAULT_INC_START = '2025-09-01T00:00:00.000000';

export interface StreamTemplate {
  /** `data_source` (the datasource's `name`). */
  name: string;
  table: string;
  /** Table column and API field of the window; null for a full read. */
  window: { column: string; connector: string } | null;
  mode: 'append' | 'snapshot';
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
];

export function loadConfigFile(stream: StreamTemplate): string {
  return `${stream.table}_load.yml`;
}

/** The stream's entry in `inc_datasources`, laid out like the templates' entries. */
export function datasourceEntry(stream: StreamTemplate): string {
  return `
  - name: ${stream.name}
    table_name: ${stream.table}
    config_file: ${loadConfigFile(stream)}
    incremental_field:${stream.window ? ` ${stream.window.column}` : ''}
    incremental_field_connector:${stream.window ? ` ${stream.window.connector}` : ''}
    default_start_time: "${DEFAULT_INC_START}"
    workflow_name: klaviyo_ingest.dig
    mode: ${stream.mode}
`;
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
