/** Every file `klaviyo-ingest init` writes, as text constants (no file lookups at run time). */
import { DATASOURCES, LOAD_CONFIG_EVENTS, LOAD_CONFIG_METRICS, LOAD_CONFIG_STANDARD } from './config.js';
import {
  CREDENTIALS_EXAMPLE,
  DATABASE,
  GITIGNORE,
  HIST_DATE_RANGES,
  LOG_ERROR_SQL,
  LOG_START_SQL,
  LOG_SUCCESS_SQL,
} from './project-files.js';
import { datasourceEntry, loadConfigFile, type StreamTemplate } from './streams.js';
import { HIST_WORKFLOW, HIST_WORKFLOW_FILE, INC_WORKFLOW, INC_WORKFLOW_FILE } from './workflows.js';

export {
  datasourceEntry,
  EXTRA_STREAMS,
  loadConfigFile,
  SEED_STREAMS,
  type StreamTemplate,
} from './streams.js';

export interface TemplateFile {
  /** Relative to the project folder, `/` separated. */
  path: string;
  content: string;
}

export const TEMPLATE_FILES: readonly TemplateFile[] = [
  { path: INC_WORKFLOW_FILE, content: INC_WORKFLOW },
  { path: HIST_WORKFLOW_FILE, content: HIST_WORKFLOW },
  { path: 'config/database.yml', content: DATABASE },
  { path: 'config/hist_date_ranges.yml', content: HIST_DATE_RANGES },
  { path: 'config/klaviyo_datasources.yml', content: DATASOURCES },
  { path: 'config/klaviyo_events_load.yml', content: LOAD_CONFIG_EVENTS },
  { path: 'config/klaviyo_email_templates_load.yml', content: LOAD_CONFIG_STANDARD },
  { path: 'config/klaviyo_campaigns_load.yml', content: LOAD_CONFIG_STANDARD },
  { path: 'config/klaviyo_lists_load.yml', content: LOAD_CONFIG_STANDARD },
  { path: 'config/klaviyo_profiles_load.yml', content: LOAD_CONFIG_STANDARD },
  { path: 'config/klaviyo_metric_data_load.yml', content: LOAD_CONFIG_METRICS },
  { path: 'sql/log_ingestion_start.sql', content: LOG_START_SQL },
  { path: 'sql/log_ingestion_success.sql', content: LOG_SUCCESS_SQL },
  { path: 'sql/log_ingestion_error.sql', content: LOG_ERROR_SQL },
  { path: '.gitignore', content: GITIGNORE },
  { path: 'credentials_ingestion.json.example', content: CREDENTIALS_EXAMPLE },
];

export {
  CREDENTIALS_EXAMPLE,
  DATABASE,
  DATASOURCES,
  GITIGNORE,
  HIST_DATE_RANGES,
  HIST_WORKFLOW,
  INC_WORKFLOW,
  LOAD_CONFIG_EVENTS,
  LOAD_CONFIG_METRICS,
  LOAD_CONFIG_STANDARD,
  LOG_ERROR_SQL,
  LOG_START_SQL,
  LOG_SUCCESS_SQL,
};

/**
 * The project files with `streams` (from EXTRA_STREAMS) added beside the templates' six: their entries
 * at the end of `inc_datasources`, and one load config each.
 */
export function templateFiles(streams: readonly StreamTemplate[] = [], nowMs = Date.now()): TemplateFile[] {
  const files = TEMPLATE_FILES.map((file) =>
    file.path === 'config/klaviyo_datasources.yml'
      ? { ...file, content: file.content + streams.map((s) => datasourceEntry(s, nowMs)).join('') }
      : file,
  );
  for (const stream of streams) {
    const content = stream.window ? LOAD_CONFIG_STANDARD : LOAD_CONFIG_METRICS;
    files.push({
      path: `config/${loadConfigFile(stream)}`,
      content: stream.conversionMetric
        ? content.replace(
            '  incremental_field: ${datasource.incremental_field_connector}\n',
            `$&  conversion_metric: ${stream.conversionMetric}\n`,
          )
        : content,
    });
  }
  return files;
}
