/** The datasources lists: safe identifiers, load config files present, modes, field pairs. */

import { findStream } from '../../sources/registry.js';
import { DATABASE_FILE } from '../config-files.js';
import { LOOKBACK_FORMAT, parseLookback } from '../lookback.js';
import { datasourceRefs, isIncremental, keyOf, lineOf } from './lists.js';
import type { RuleGroup } from './types.js';

const SAFE_IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/i;
const MODES = ['append', 'replace', 'merge', 'snapshot'];

export const datasourceRules: RuleGroup = {
  name: 'datasources',
  codes: [
    'UNSAFE_TABLE_NAME',
    'UNSAFE_IDENTIFIER',
    'CONFIG_FILE_MISSING',
    'UNKNOWN_OUT_MODE',
    'INCREMENTAL_FIELD_PAIR',
    'BAD_LOOKBACK',
    'SNAPSHOT_NEEDS_FULL_READ',
  ],
  check({ snapshot, report }) {
    for (const ref of datasourceRefs(snapshot)) {
      const d = ref.datasource;
      const at = (field: string) => ({
        file: ref.yaml.file,
        line: lineOf(ref, field),
        key: keyOf(ref, field),
      });
      if (!SAFE_IDENTIFIER.test(d.table_name)) {
        report({
          code: 'UNSAFE_TABLE_NAME',
          severity: 'error',
          ...at('table_name'),
          message: `table_name "${d.table_name}" is not a safe identifier`,
          fix: 'Use letters, digits and underscores only, starting with a letter or underscore, at most 63 characters (e.g. klaviyo_events).',
        });
      }
      if (d.incremental_field && !SAFE_IDENTIFIER.test(d.incremental_field)) {
        report({
          code: 'UNSAFE_IDENTIFIER',
          severity: 'error',
          ...at('incremental_field'),
          message: `incremental_field "${d.incremental_field}" is not a safe column name`,
          fix: 'Use the table column name: letters, digits and underscores only (e.g. updated_at).',
        });
      }
      const configFile = `config/${d.config_file}`;
      if (!snapshot.files.exists(configFile)) {
        report({
          code: 'CONFIG_FILE_MISSING',
          severity: 'error',
          ...at('config_file'),
          message: `config_file ${d.config_file} of datasource ${d.name}: ${configFile} does not exist`,
          fix: `Create ${configFile} (klaviyo-ingest init writes the Type 1/2/3 load configs), or fix config_file.`,
        });
      }
      if (!MODES.includes(d.mode)) {
        report({
          code: 'UNKNOWN_OUT_MODE',
          severity: 'error',
          ...at('mode'),
          message: `mode "${d.mode}" of datasource ${d.name} is not one of ${MODES.join(', ')}`,
          fix: 'Use mode: append (the templates), replace, merge, or snapshot (a full read that marks rows deleted upstream).',
        });
      }
      if (parseLookback(d.lookback) === null) {
        report({
          code: 'BAD_LOOKBACK',
          severity: 'error',
          ...at('lookback'),
          message: `lookback "${String(d.lookback)}" of datasource ${d.name} is not a duration`,
          fix: `Write ${LOOKBACK_FORMAT}.`,
        });
      }
      if (d.mode === 'snapshot' && (isIncremental(d) || findStream(d.name)?.implicitWindowField)) {
        report({
          code: 'SNAPSHOT_NEEDS_FULL_READ',
          severity: 'error',
          ...at('mode'),
          message: `datasource ${d.name} has mode snapshot but reads a window: a snapshot must read every object, or it would mark the ones outside the window deleted`,
          fix: findStream(d.name)?.implicitWindowField
            ? `Use mode: append for ${d.name} (it is always read by window).`
            : 'Leave incremental_field and incremental_field_connector empty (and use the full-load config, like metrics), or use mode: append or merge.',
        });
      }
      const connector = d.incremental_field_connector;
      const hasConnector = connector !== null && connector !== '';
      if (isIncremental(d) !== hasConnector) {
        report({
          code: 'INCREMENTAL_FIELD_PAIR',
          severity: 'error',
          ...at(hasConnector ? 'incremental_field' : 'incremental_field_connector'),
          message: `datasource ${d.name} sets ${hasConnector ? 'incremental_field_connector but not incremental_field' : 'incremental_field but not incremental_field_connector'}`,
          fix: 'Set both (table column and API field) for an incremental source, or leave both empty for a full load.',
        });
      }
    }
    const dbFile = snapshot.files.parsed(DATABASE_FILE);
    for (const [name, value] of Object.entries(snapshot.database?.databases ?? {})) {
      if (SAFE_IDENTIFIER.test(value) || !dbFile) continue;
      report({
        code: 'UNSAFE_IDENTIFIER',
        severity: 'error',
        file: dbFile.file,
        line: dbFile.lineOf(['databases', name]),
        key: `databases.${name}`,
        message: `database name "${value}" is not a safe identifier`,
        fix: 'Use letters, digits and underscores only, starting with a letter or underscore (e.g. klaviyo_src).',
      });
    }
  },
};
