// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings hold Digdag ${...} syntax on purpose
/**
 * The load configs against the data sources they serve (critical reminders 2-7): in.type is
 * klaviyo, the connector field is passed, it exists and is filterable, campaigns keep `_at` in the
 * table only, events skip related objects and pass no incremental_field, metrics pass no
 * incremental parameters.
 */
import { findStream, sourceNames } from '../../sources/registry.js';
import type { StreamSpec } from '../../sources/stream.js';
import { IngestError } from '../../util/errors.js';
import { formatTemplateTime } from '../../util/timestamps.js';
import { type LoadConfig, loadTypeProblem, parseLoadConfig } from '../load-config.js';
import { isPlainObject, type YamlFile } from '../yaml.js';
import { type DatasourceRef, datasourceRefs, isIncremental, keyOf, lineOf } from './lists.js';
import type { Finding, RuleContext, RuleGroup } from './types.js';

const TABLE_FIELD_REF = /\$\{\s*datasource\.incremental_field\s*\}/;
const INCREMENTAL_KEYS = ['incremental', 'start_time', 'end_time', 'incremental_field'] as const;

function fromError(error: IngestError): Finding {
  return {
    code: error.code,
    severity: 'error',
    file: error.file ?? '',
    ...(error.line === undefined ? {} : { line: error.line }),
    ...(error.key === undefined ? {} : { key: error.key }),
    message: error.message,
    fix: error.fix ?? '',
  };
}

function rawIn(yaml: YamlFile): Record<string, unknown> {
  return isPlainObject(yaml.value) && isPlainObject(yaml.value.in) ? yaml.value.in : {};
}

function filled(ref: DatasourceRef, text: string, file: string, now: Date): LoadConfig {
  const d = ref.datasource;
  const end = formatTemplateTime(now.getTime());
  const lastResults = isIncremental(d)
    ? { start_time: d.default_start_time ?? end, end_time: end }
    : { start_time: '', end_time: end };
  const params = {
    timezone: 'UTC',
    ...(ref.workflow?.exports ?? {}),
    [ref.workflow?.loop?.variable ?? 'datasource']: d,
    td: { last_results: lastResults },
  };
  return parseLoadConfig(file, text, params, { anyType: true });
}

function knownFields(entry: StreamSpec): string {
  const names = Object.keys(entry.windowFields);
  return names.length ? names.join(', ') : '(none: a full load)';
}

function checkSource(
  ctx: RuleContext,
  ref: DatasourceRef,
  file: string,
  raw: YamlFile,
  config: LoadConfig,
): void {
  const d = ref.datasource;
  const at = (field: string) => ({ file: ref.yaml.file, line: lineOf(ref, field), key: keyOf(ref, field) });
  const inLoad = (field: string) => ({
    file,
    line: raw.lineOf(['in', field]) ?? raw.lineOf(['in']),
    key: `in.${field}`,
  });
  const rawKeys = rawIn(raw);
  const entry = findStream(config.in.data_source);
  if (!entry) {
    const viaName = String(rawKeys.data_source ?? '').includes('datasource.name');
    ctx.report({
      code: 'UNKNOWN_DATA_SOURCE',
      severity: 'error',
      ...(viaName ? at('name') : inLoad('data_source')),
      message: `data_source "${config.in.data_source}" (datasource ${d.table_name}) is not a Klaviyo data source`,
      fix: `Use one of: ${sourceNames().join(', ')}.`,
    });
    return;
  }
  const source = entry.name;
  // A report's recent days are read again and must replace the rows read before; a child collection
  // read whole every run (campaign messages, coupon codes) would otherwise pile up a copy per run.
  const rereads =
    entry.report !== undefined ||
    (entry.parent !== undefined && Object.keys(entry.windowFields).length === 0);
  // A snapshot merges by id too (and marks what is gone).
  if (rereads && d.mode !== 'merge' && d.mode !== 'snapshot') {
    ctx.report({
      code: 'REREAD_NEEDS_MERGE',
      severity: entry.report ? 'error' : 'warning',
      ...at('mode'),
      message: `${source} reads ${entry.report ? 'its recent days' : 'every record'} again each run: with mode ${d.mode} datasource ${d.table_name} would keep a row per read`,
      fix: 'Set mode: merge (one row per id, the newest read wins).',
    });
  }
  for (const key of entry.report?.requires ?? []) {
    if (typeof config.in[key] === 'string' && config.in[key] !== '') continue;
    // The conversion metric may be named instead (`conversion_metric: Placed Order`).
    const byName = config.in.conversion_metric;
    if (key === 'conversion_metric_id' && typeof byName === 'string' && byName !== '') continue;
    ctx.report({
      code: 'REPORT_NEEDS_KEY',
      severity: 'error',
      ...inLoad(key),
      message: `${source} needs in.${key} in ${file}`,
      fix: `Add "${key}: <metric id>" (or "conversion_metric: <metric name>") under in: (the metric whose events count as conversions, e.g. Placed Order).`,
    });
  }
  const connector = d.incremental_field_connector;
  const windowFields = entry.windowFields;
  const fullLoad = Object.keys(windowFields).length === 0;

  if (fullLoad) {
    for (const key of INCREMENTAL_KEYS) {
      if (!Object.hasOwn(rawKeys, key)) continue;
      ctx.report({
        code: 'METRICS_INCREMENTAL',
        severity: 'error',
        ...inLoad(key),
        message: `${source} is a full load: the load config must not set in.${key}`,
        fix: `Remove incremental, start_time, end_time and incremental_field from ${file} (Type 3 load config).`,
      });
    }
    for (const field of ['incremental_field', 'incremental_field_connector'] as const) {
      if (d[field] === null || d[field] === '') continue;
      ctx.report({
        code: 'METRICS_INCREMENTAL',
        severity: 'error',
        ...at(field),
        message: `${source} is a full load: datasource ${d.table_name} must leave ${field} empty`,
        fix: `Write "${field}:" with no value.`,
      });
    }
    return;
  }

  if (connector && !Object.hasOwn(windowFields, connector)) {
    ctx.report({
      code: 'UNKNOWN_INCREMENTAL_FIELD',
      severity: 'error',
      ...at('incremental_field_connector'),
      message: `Unknown incremental field "${connector}" for data source ${source}: the connector takes ${knownFields(entry)}`,
      fix:
        source === 'campaigns'
          ? 'Campaigns take created / updated in the connector (created_at / updated_at stay in the table incremental_field).'
          : `Set incremental_field_connector to the API field name: ${knownFields(entry)}.`,
    });
  }
  const field = connector ? windowFields[connector] : undefined;
  if (field && d.incremental_field && d.incremental_field !== field.apiField) {
    const campaigns = source === 'campaigns';
    ctx.report({
      code: campaigns ? 'CAMPAIGNS_TABLE_FIELD' : 'TABLE_FIELD_MISMATCH',
      severity: 'error',
      ...at('incremental_field'),
      message: campaigns
        ? `campaigns table field must be "${field.apiField}" (with _at) for connector field "${connector}", not "${d.incremental_field}"`
        : `table field "${d.incremental_field}" does not match the column "${field.apiField}" that connector field "${connector}" fills`,
      fix: campaigns
        ? `Set incremental_field: ${field.apiField} and incremental_field_connector: ${connector}.`
        : `Set incremental_field: ${field.apiField}.`,
    });
  }

  const loadField = config.in.incremental_field;
  if (entry.implicitWindowField !== undefined) {
    // events-like: windowed on start_time/end_time only.
    if (config.in.skip_related_objects !== true) {
      ctx.report({
        code: 'EVENTS_SKIP_RELATED',
        severity: 'error',
        ...inLoad('skip_related_objects'),
        message: `${source} load config must set in.skip_related_objects: true`,
        fix: `Add "skip_related_objects: true" under in: in ${file} (Type 2 load config).`,
      });
    }
    if (Object.hasOwn(rawKeys, 'incremental_field')) {
      ctx.report({
        code: 'EVENTS_INCREMENTAL_FIELD',
        severity: 'error',
        ...inLoad('incremental_field'),
        message: `${source} load config must not pass in.incremental_field (events are windowed by start_time/end_time)`,
        fix: `Remove "incremental_field:" from ${file}.`,
      });
    }
  } else if (isIncremental(d)) {
    if (loadField === undefined || loadField === null || loadField === '') {
      ctx.report({
        code: 'LOAD_NOT_INCREMENTAL',
        severity: 'error',
        ...inLoad('incremental_field'),
        message: `datasource ${d.table_name} is incremental but ${file} passes no in.incremental_field`,
        fix: 'Add "incremental_field: ${datasource.incremental_field_connector}" under in: (Type 1 load config).',
      });
    } else if (!Object.hasOwn(windowFields, loadField) && loadField !== connector) {
      ctx.report({
        code: 'UNKNOWN_INCREMENTAL_FIELD',
        severity: 'error',
        ...inLoad('incremental_field'),
        message: `Unknown incremental field "${loadField}" for data source ${source}: the connector takes ${knownFields(entry)}`,
        fix: 'Write "incremental_field: ${datasource.incremental_field_connector}".',
      });
    }
  }
  if (isIncremental(d) && (config.in.incremental !== true || !Object.hasOwn(rawKeys, 'start_time'))) {
    ctx.report({
      code: 'LOAD_NOT_INCREMENTAL',
      severity: 'error',
      ...inLoad(config.in.incremental !== true ? 'incremental' : 'start_time'),
      message: `datasource ${d.table_name} is incremental but ${file} does not set in.incremental: true with start_time/end_time`,
      fix: 'Add incremental: true, start_time: ${td.last_results.start_time} and end_time: ${td.last_results.end_time} under in:.',
    });
  }
}

export const loadConfigRules: RuleGroup = {
  name: 'load-configs',
  codes: [
    'LOAD_TYPE',
    'LOAD_USES_TABLE_FIELD',
    'UNKNOWN_DATA_SOURCE',
    'UNKNOWN_INCREMENTAL_FIELD',
    'CAMPAIGNS_TABLE_FIELD',
    'TABLE_FIELD_MISMATCH',
    'EVENTS_SKIP_RELATED',
    'EVENTS_INCREMENTAL_FIELD',
    'METRICS_INCREMENTAL',
    'LOAD_NOT_INCREMENTAL',
  ],
  check(ctx) {
    const { files } = ctx.snapshot;
    for (const ref of datasourceRefs(ctx.snapshot)) {
      const file = `config/${ref.datasource.config_file}`;
      if (!files.exists(file)) continue;
      try {
        const raw = files.yaml(file);
        const field = rawIn(raw).incremental_field;
        if (typeof field === 'string' && TABLE_FIELD_REF.test(field)) {
          ctx.report({
            code: 'LOAD_USES_TABLE_FIELD',
            severity: 'error',
            file,
            line: raw.lineOf(['in', 'incremental_field']),
            key: 'in.incremental_field',
            message:
              'load config passes ${datasource.incremental_field} (the table column) as in.incremental_field',
            fix: 'Write "incremental_field: ${datasource.incremental_field_connector}" (the API field name).',
          });
        }
        const config = filled(ref, raw.text, file, ctx.now);
        const typeProblem = loadTypeProblem(
          file,
          config.in.type,
          raw.lineOf(['in', 'type']) ?? raw.lineOf(['in']),
        );
        if (typeProblem) ctx.report(fromError(typeProblem));
        checkSource(ctx, ref, file, raw, config);
      } catch (error) {
        if (!(error instanceof IngestError)) throw error;
        ctx.report(fromError(error));
      }
    }
  },
};

export { fromError };
