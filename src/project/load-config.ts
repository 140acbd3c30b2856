// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings hold Digdag ${...} syntax on purpose
/**
 * A td_load> config (`config/<config_file>`), as Digdag reads it: the whole TEXT is filled with
 * `${...}` first, then parsed as YAML, so an empty substitution (`start_time: ${...}` with '')
 * becomes null. The result is typed as `LoadConfig`.
 */
import path from 'node:path';
import { z } from 'zod';
import { configError, type IngestError } from '../util/errors.js';
import type { ProjectFiles } from './files.js';
import { parseWith } from './schema.js';
import { fillTemplate, type TemplateParams } from './template.js';
import { parseYamlFile } from './yaml.js';

const optionalNullableText = z
  .union([z.string(), z.number(), z.null()])
  .optional()
  .transform((v) => (v === undefined || v === null ? v : String(v)));

/** The one td_load> connector this tool runs: TD's `in.type` of a Klaviyo load config. */
const LOAD_TYPE = 'klaviyo';

export const LoadConfigInSchema = z.looseObject({
  // Any value parses; loadTypeProblem names one other than klaviyo (or none) with its own finding.
  type: z.unknown().optional(),
  data_source: z.string(),
  td_authentication_id: z.union([z.number(), z.string()]).nullable().optional(),
  incremental: z.boolean().nullable().optional(),
  start_time: optionalNullableText,
  end_time: optionalNullableText,
  incremental_field: optionalNullableText,
  skip_related_objects: z.boolean().nullable().optional(),
  // Beyond TD's connector: the metric flow and campaign reports count conversions of (e.g. Placed Order).
  conversion_metric_id: optionalNullableText,
  // Or the metric by name, looked up in /api/metrics when the report runs (init writes Placed Order).
  conversion_metric: optionalNullableText,
});

const LoadConfigSchema = z.looseObject({
  in: LoadConfigInSchema,
  filters: z
    .array(z.looseObject({ type: z.string() }))
    .nullable()
    .optional()
    .transform((v) => v ?? []),
  out: z.looseObject({ mode: z.string() }),
});
export type LoadConfig = z.output<typeof LoadConfigSchema>;

const LOAD_FIX =
  'A load config needs "in:" (type, data_source, ...), optional "filters:" and "out: {mode: append}" — see klaviyo-ingest init.';

/** Project-relative path of a td_load> argument; must stay inside the project. */
export function resolveConfigPath(rendered: string, from: string): string {
  const rel = path.posix.normalize(rendered.trim().replace(/\\/g, '/'));
  if (rel === '' || rel === '.' || path.posix.isAbsolute(rel) || rel.split('/').includes('..')) {
    throw configError(`td_load> path "${rendered}" must be a file inside the project folder`, {
      code: 'LOAD_CONFIG_PATH',
      file: from,
      fix: 'Write "td_load>: config/${datasource.config_file}" and a config_file name such as klaviyo_events_load.yml.',
    });
  }
  return rel;
}

/**
 * The LOAD_TYPE error of a load config whose in.type is not klaviyo, or null. TD runs the connector
 * that in.type names and rejects a config without one; this tool runs Klaviyo loads only, so a
 * typo (klaviyoo) or a missing type must stop it rather than load Klaviyo data anyway.
 */
export function loadTypeProblem(file: string, type: unknown, line: number | undefined): IngestError | null {
  if (type === LOAD_TYPE) return null;
  const missing = type === undefined || type === null || type === '';
  return configError(
    missing
      ? `load config sets no in.type; klaviyo-ingest runs in.type: ${LOAD_TYPE} loads only`
      : `in.type is ${JSON.stringify(type)}; klaviyo-ingest runs in.type: ${LOAD_TYPE} loads only`,
    {
      code: 'LOAD_TYPE',
      file,
      key: 'in.type',
      ...(line === undefined ? {} : { line }),
      fix: `Set in.type: ${LOAD_TYPE} in ${file}.`,
    },
  );
}

/**
 * Fill the load config text with `params`, then parse and type it. An in.type other than klaviyo
 * throws LOAD_TYPE unless `anyType` (validation reports it as a finding of its own).
 */
export function parseLoadConfig(
  file: string,
  text: string,
  params: TemplateParams,
  options: { anyType?: boolean } = {},
): LoadConfig {
  const filled = fillTemplate(text, params, { file });
  const yaml = parseYamlFile(file, filled);
  const config = parseWith(LoadConfigSchema, yaml.value, yaml, { fix: LOAD_FIX });
  const problem = options.anyType
    ? null
    : loadTypeProblem(file, config.in.type, yaml.lineOf(['in', 'type']) ?? yaml.lineOf(['in']));
  if (problem) throw problem;
  return config;
}

export function readLoadConfigFile(files: ProjectFiles, file: string, params: TemplateParams): LoadConfig {
  return parseLoadConfig(
    file,
    files.read(file, `Create ${file} (a Type 1, 2 or 3 load config from the templates), or fix config_file.`),
    params,
  );
}
