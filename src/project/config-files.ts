/**
 * The `!include`d config files of the templates: `config/database.yml`,
 * `config/klaviyo_datasources.yml` and `config/hist_date_ranges.yml`, typed with zod.
 */
import { z } from 'zod';
import type { ProjectFiles } from './files.js';
import { parseWith } from './schema.js';

export const DATABASE_FILE = 'config/database.yml';
export const DATASOURCES_FILE = 'config/klaviyo_datasources.yml';
export const DATE_RANGES_FILE = 'config/hist_date_ranges.yml';

const scalarName = z.union([z.string(), z.number()]).transform(String);

const DatabaseConfigSchema = z.looseObject({
  databases: z.record(z.string(), scalarName).refine((m) => Object.hasOwn(m, 'src'), {
    message: "needs a 'src' entry (the schema the tables and the ingestion log go to)",
  }),
  td_authentication_ids: z.record(z.string(), z.record(z.string(), scalarName)).optional(),
});
export type DatabaseConfig = z.output<typeof DatabaseConfigSchema>;

const nullableText = z
  .union([z.string(), z.null()])
  .optional()
  .transform((v) => (v === undefined ? null : v));

export const DatasourceSchema = z.looseObject({
  name: z.string(),
  table_name: z.string(),
  config_file: z.string(),
  /** The column in the table; null (empty in YAML) for full loads such as metrics. */
  incremental_field: nullableText,
  /** The field name the connector (API) takes; can differ from the table column (campaigns). */
  incremental_field_connector: nullableText,
  default_start_time: nullableText,
  workflow_name: z.string(),
  mode: z.string(),
  /** Beyond the templates: re-read this trailing period before the table's max (`7d`). */
  lookback: z.union([z.string(), z.number()]).nullish(),
});
export type Datasource = z.output<typeof DatasourceSchema>;

export const DatasourceListSchema = z.array(DatasourceSchema);

const DatasourcesConfigSchema = z.looseObject({
  hist_datasources: DatasourceListSchema.optional().transform((v) => v ?? []),
  inc_datasources: DatasourceListSchema.optional().transform((v) => v ?? []),
});
export type DatasourcesConfig = z.output<typeof DatasourcesConfigSchema>;

const DateRangeSchema = z.looseObject({
  start_time: z.string(),
  end_time: z.string(),
  month_name: scalarName.optional(),
});

const DateRangesConfigSchema = z.looseObject({ date_ranges: z.array(DateRangeSchema) });
export type DateRangesConfig = z.output<typeof DateRangesConfigSchema>;

export const DATASOURCE_FIX =
  'Each datasource needs name, table_name, config_file, incremental_field, incremental_field_connector, ' +
  'default_start_time, workflow_name and mode (see klaviyo-ingest init).';

export function readDatabaseConfig(files: ProjectFiles): DatabaseConfig {
  const yaml = files.yaml(DATABASE_FILE);
  return parseWith(DatabaseConfigSchema, yaml.value, yaml, {
    fix: 'Write "databases:\\n  src: klaviyo_src" (src names the schema the tables go to).',
  });
}

export function readDatasourcesConfig(files: ProjectFiles): DatasourcesConfig {
  const yaml = files.yaml(DATASOURCES_FILE);
  return parseWith(DatasourcesConfigSchema, yaml.value, yaml, { fix: DATASOURCE_FIX });
}

export function readDateRangesConfig(files: ProjectFiles): DateRangesConfig {
  const yaml = files.yaml(DATE_RANGES_FILE);
  return parseWith(DateRangesConfigSchema, yaml.value, yaml, {
    fix: 'Write "date_ranges:" as a list of {start_time, end_time, month_name} in the YYYY-MM-DDTHH:MM:SS.000000 format.',
  });
}
