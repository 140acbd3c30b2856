/**
 * `klaviyo-ingest add-source`: the templates' "Adding New Klaviyo Data Sources" steps as one edit
 * plan. Step 1 (the API field) is checked against the stream's declaration, as validate's
 * UNKNOWN_INCREMENTAL_FIELD rule does; step 2 adds the datasource entry to the list each chosen
 * workflow iterates, through the `yaml` Document API so the file keeps its comments and layout;
 * step 3 writes the load config of the stream's type. Nothing is written here: the caller gets the
 * new file texts and decides (after validating them) whether to write.
 */
import { isMap, isSeq, parseDocument, Scalar } from 'yaml';
import { findStream, sourceNames } from '../sources/registry.js';
import type { StreamSpec } from '../sources/stream.js';
import { configError } from '../util/errors.js';
import type { ProjectSnapshot } from './project.js';
import { isPlainObject } from './yaml.js';

/** The templates' three load config types. */
export type LoadType = 'standard' | 'events-like' | 'full-load';

export type WorkflowChoice = 'inc' | 'hist' | 'both';

export interface AddSourceRequest {
  /** The stream (`data_source`), e.g. `flows`. */
  name: string;
  tableField?: string | undefined;
  apiField?: string | undefined;
  eventsLike?: boolean;
  fullLoad?: boolean;
  workflow: WorkflowChoice;
}

export interface FileChange {
  /** Project-relative path. */
  file: string;
  text: string;
  /** False when the file exists already with this very text (a load config shared by inc and hist). */
  changed: boolean;
}

export interface AddSourcePlan {
  loadType: LoadType;
  /** The entries added, by list name. */
  entries: { list: string; file: string; entry: Record<string, string | null> }[];
  changes: FileChange[];
}

/** The texts of the load configs `init` writes, by type (from src/scaffold). */
export type LoadConfigTexts = Readonly<Record<LoadType, string>>;

const WORKFLOW_FILES: Record<'inc' | 'hist', string> = {
  inc: 'klaviyo_ingest_inc.dig',
  hist: 'klaviyo_ingest_hist.dig',
};
const TEMPLATE_START: Record<'inc' | 'hist', string> = {
  inc: '2025-09-01T00:00:00.000000',
  hist: '2023-09-01T00:00:00.000000',
};
const SAFE_NAME = /^[a-z_][a-z0-9_]{0,40}$/;

function fail(
  message: string,
  code: string,
  fix: string,
  extra: { file?: string; key?: string } = {},
): never {
  throw configError(`${message}; nothing was written`, { code, fix, ...extra });
}

function knownFields(stream: StreamSpec): string {
  const names = Object.keys(stream.windowFields);
  return names.length ? names.join(', ') : '(none: a full load)';
}

/** The load type the flags ask for, checked against what the stream declares. */
function loadTypeOf(stream: StreamSpec, request: AddSourceRequest): LoadType {
  if (request.eventsLike && request.fullLoad) {
    fail('--events-like and --full-load exclude each other', 'CLI_FLAG', 'give one of them, or neither', {
      key: '--events-like',
    });
  }
  const fullLoadOnly = Object.keys(stream.windowFields).length === 0;
  if (request.fullLoad || fullLoadOnly) {
    if (request.eventsLike) {
      fail(
        `${stream.name} cannot be filtered by time at all, so it is not events-like`,
        'ADD_SOURCE_TYPE',
        `leave --events-like out: ${stream.name} is a full load (Type 3 load config)`,
        { key: '--events-like' },
      );
    }
    for (const [flag, value] of [
      ['--table-field', request.tableField],
      ['--api-field', request.apiField],
    ] as const) {
      if (value === undefined) continue;
      fail(
        fullLoadOnly
          ? `${flag} ${value}: ${stream.name} is a full load (the API filters it on no time field), so it takes no incremental field`
          : `${flag} ${value} and --full-load exclude each other`,
        fullLoadOnly ? 'METRICS_INCREMENTAL' : 'CLI_FLAG',
        fullLoadOnly
          ? `leave --table-field and --api-field out: klaviyo-ingest add-source ${stream.name}`
          : 'a full load reads everything every run: leave --table-field and --api-field out',
        { key: flag },
      );
    }
    return 'full-load';
  }
  if (stream.implicitWindowField !== undefined) return 'events-like';
  if (request.eventsLike) {
    fail(
      `${stream.name} is windowed through in.incremental_field (the connector takes ${knownFields(stream)}), so it is not events-like`,
      'ADD_SOURCE_TYPE',
      `leave --events-like out (Type 1 load config), or use --full-load to read everything every run`,
      { key: '--events-like' },
    );
  }
  return 'standard';
}

/** incremental_field (table) and incremental_field_connector (API) for an incremental type. */
function fieldsOf(stream: StreamSpec, request: AddSourceRequest): { table: string; api: string } {
  const api = request.apiField ?? stream.implicitWindowField;
  if (api === undefined) {
    fail(
      `--api-field is required: ${stream.name} is incremental`,
      'CLI_FLAG',
      `give the API field to window on, one of: ${knownFields(stream)} (e.g. --table-field ${Object.values(stream.windowFields)[0]?.apiField} --api-field ${Object.keys(stream.windowFields)[0]}), or --full-load`,
      { key: '--api-field' },
    );
  }
  const field = stream.windowFields[api];
  if (!field) {
    fail(
      `Unknown incremental field "${api}" for data source ${stream.name}: the connector takes ${knownFields(stream)} (the API cannot filter ${stream.name} on ${api})`,
      'UNKNOWN_INCREMENTAL_FIELD',
      stream.name === 'campaigns'
        ? 'Campaigns take created / updated in the connector (created_at / updated_at stay in the table incremental_field).'
        : `use --api-field with one of: ${knownFields(stream)}`,
      { key: '--api-field' },
    );
  }
  const table = request.tableField ?? field.apiField;
  if (table !== field.apiField) {
    fail(
      `--table-field ${table} does not match the column "${field.apiField}" that API field "${api}" fills`,
      stream.name === 'campaigns' ? 'CAMPAIGNS_TABLE_FIELD' : 'TABLE_FIELD_MISMATCH',
      `use --table-field ${field.apiField} --api-field ${api}`,
      { key: '--table-field' },
    );
  }
  return { table, api };
}

function firstText(list: readonly unknown[], key: string): string | null {
  for (const item of list) {
    if (isPlainObject(item) && typeof item[key] === 'string' && item[key] !== '') return item[key] as string;
  }
  return null;
}

/** Whether the file writes its lists' `- ` indented under their key (the templates do). */
function indentsSequences(text: string, listName: string): boolean {
  const match = new RegExp(`^${listName}:\\s*\\n(?:\\s*#.*\\n|\\s*\\n)*( *)- `, 'm').exec(text);
  return match === null || (match[1] ?? '').length > 0;
}

/** Plans adding `request` to the project; throws a config error (nothing written) when it cannot. */
export function planAddDatasource(
  snapshot: ProjectSnapshot,
  request: AddSourceRequest,
  loadConfigs: LoadConfigTexts,
): AddSourcePlan {
  const stream = findStream(request.name);
  if (!stream) {
    fail(
      `Unknown data source '${request.name}': no Klaviyo stream has that name`,
      'UNKNOWN_DATA_SOURCE',
      `use one of: ${sourceNames().join(', ')}`,
      { key: 'NAME' },
    );
  }
  if (!SAFE_NAME.test(stream.name)) {
    fail(`${stream.name} cannot be a table name`, 'UNSAFE_TABLE_NAME', 'internal: report this');
  }
  const loadType = loadTypeOf(stream, request);
  const fields = loadType === 'full-load' ? null : fieldsOf(stream, request);
  const configFile = `klaviyo_${stream.name}_load.yml`;
  const configPath = `config/${configFile}`;

  const texts = new Map<string, string>();
  const entries: AddSourcePlan['entries'] = [];
  const kinds: ('inc' | 'hist')[] = request.workflow === 'both' ? ['inc', 'hist'] : [request.workflow];
  for (const kind of kinds) {
    const workflowFile = WORKFLOW_FILES[kind];
    const workflow = snapshot.workflows[workflowFile];
    const listName = workflow?.loop?.listName;
    if (!workflow || !listName) {
      fail(
        `${workflowFile} is missing or iterates no named datasource list`,
        'WORKFLOW_NOT_FOUND',
        `run klaviyo-ingest validate ${snapshot.dir} and fix it, or choose another --workflow`,
        { file: workflowFile },
      );
    }
    const file = workflow.exportOrigins[listName];
    if (!file) {
      fail(
        `${listName} is written in ${workflowFile} itself, not in an !include'd file add-source can edit`,
        'ADD_SOURCE_LIST_LOCATION',
        `add the entry by hand (docs/spec: "Adding New Klaviyo Data Sources"), or move ${listName} to config/klaviyo_datasources.yml`,
        { file: workflowFile },
      );
    }
    const text = texts.get(file) ?? snapshot.files.read(file);
    const doc = parseDocument(text, { schema: 'core' });
    const list = doc.get(listName, true);
    if (!isSeq(list)) {
      fail(
        `${listName} in ${file} is not a list`,
        'DATASOURCE_LIST_INVALID',
        'fix the file (klaviyo-ingest validate)',
        {
          file,
          key: listName,
        },
      );
    }
    const current = (list.toJSON() as unknown[]) ?? [];
    const suffix = kind === 'hist' ? '_hist' : '';
    const tableName = `klaviyo_${stream.name}${suffix}`;
    const clash = current.find(
      (item) => isPlainObject(item) && (item.name === stream.name || item.table_name === tableName),
    );
    if (clash) {
      fail(
        `${listName} in ${file} already has a datasource ${isPlainObject(clash) && clash.name === stream.name ? `named ${stream.name}` : `with table_name ${tableName}`}`,
        'SOURCE_EXISTS',
        `edit the existing entry instead, or choose --workflow ${kind === 'inc' ? 'hist' : 'inc'}`,
        { file, key: listName },
      );
    }
    const entry: Record<string, string | null> = {
      name: stream.name,
      table_name: tableName,
      config_file: configFile,
      incremental_field: fields?.table ?? null,
      incremental_field_connector: fields?.api ?? null,
      default_start_time: firstText(current, 'default_start_time') ?? TEMPLATE_START[kind],
      workflow_name: firstText(current, 'workflow_name') ?? 'klaviyo_ingest.dig',
      mode: 'append',
    };
    const node = doc.createNode(entry);
    if (isMap(node)) {
      const start = node.get('default_start_time', true);
      if (start instanceof Scalar) start.type = Scalar.QUOTE_DOUBLE;
      // A blank line before the entry, as the templates separate theirs.
      node.spaceBefore = list.items.length > 0;
    }
    list.items.push(node);
    const updated = doc.toString({ nullStr: '', lineWidth: 0, indentSeq: indentsSequences(text, listName) });
    // The edit must add exactly the entry: the file's other values read back unchanged.
    const check = parseDocument(updated, { schema: 'core' }).toJSON() as Record<string, unknown>;
    const before = parseDocument(text, { schema: 'core' }).toJSON() as Record<string, unknown>;
    const expected = { ...before, [listName]: [...current, entry] };
    if (JSON.stringify(check) !== JSON.stringify(expected)) {
      fail(
        `could not add the entry to ${file} without changing its other values`,
        'ADD_SOURCE_EDIT',
        'add the entry by hand',
        {
          file,
        },
      );
    }
    texts.set(file, updated);
    entries.push({ list: listName, file, entry });
  }

  const loadConfig = loadConfigs[loadType];
  if (snapshot.files.exists(configPath) && snapshot.files.read(configPath) !== loadConfig) {
    fail(
      `${configPath} exists already and differs from the ${loadType} load config add-source would write`,
      'CONFIG_FILE_EXISTS',
      `remove or rename ${configPath} if it is not in use, or add the datasource entry by hand`,
      { file: configPath },
    );
  }
  const changes: FileChange[] = [...texts].map(([file, text]) => ({ file, text, changed: true }));
  changes.push({
    file: configPath,
    text: loadConfig,
    changed: !snapshot.files.exists(configPath),
  });
  return { loadType, entries, changes };
}
