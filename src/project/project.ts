// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings hold Digdag ${...} syntax on purpose
/**
 * A whole project folder. `readProjectSnapshot` reads every part it can and collects the problems
 * (what `validate` needs); `loadProject` does the same and throws the first problem (what `run`
 * needs), returning a typed `Project`.
 */
import { readdirSync, statSync } from 'node:fs';
import { configError, IngestError } from '../util/errors.js';
import {
  DATASOURCE_FIX,
  DATE_RANGES_FILE,
  type DatabaseConfig,
  type Datasource,
  DatasourceListSchema,
  type DatasourcesConfig,
  type DateRangesConfig,
  readDatabaseConfig,
  readDatasourcesConfig,
  readDateRangesConfig,
} from './config-files.js';
import { type CredentialsResolver, createCredentialsResolver } from './credentials.js';
import { readWorkflow, type WorkflowDefinition } from './dig-file.js';
import { ProjectFiles } from './files.js';
import { type LoadConfig, readLoadConfigFile, resolveConfigPath } from './load-config.js';
import { parseWith } from './schema.js';
import { fillTemplate, type TemplateParams } from './template.js';
import { formatPath, type YamlFile } from './yaml.js';

export interface ProjectOptions {
  /** Environment for credentials (KLAVIYO_API_KEY, KLAVIYO_REVISION); default process.env. */
  env?: Readonly<Record<string, string | undefined>>;
}

export interface ProjectSnapshot {
  dir: string;
  files: ProjectFiles;
  /** The `.dig` files at the project root, sorted. */
  workflowFiles: readonly string[];
  /** The workflows that could be read, by file name (`klaviyo_ingest_inc.dig`). */
  workflows: Readonly<Record<string, WorkflowDefinition>>;
  database: DatabaseConfig | null;
  datasources: DatasourcesConfig | null;
  dateRanges: DateRangesConfig | null;
  credentials: CredentialsResolver | null;
  /** Everything that could not be read, in the order found (deduplicated). */
  problems: readonly IngestError[];
}

export interface LoadConfigResult {
  /** Project-relative path, e.g. `config/klaviyo_events_load.yml`. */
  file: string;
  config: LoadConfig;
}

export interface ReadLoadConfigOptions {
  /** The workflow whose exports and loop to use (file name or definition); default: the first one iterating this datasource. */
  workflow?: WorkflowDefinition | string;
  /** Extra params (Digdag runtime params such as session_time) visible to `${...}`. */
  params?: TemplateParams;
}

export interface Project {
  dir: string;
  files: ProjectFiles;
  /** `databases:` of config/database.yml (`src` always present). */
  databases: Readonly<Record<string, string>>;
  database: DatabaseConfig;
  datasources: DatasourcesConfig;
  dateRanges: DateRangesConfig | null;
  workflows: Readonly<Record<string, WorkflowDefinition>>;
  credentials: CredentialsResolver;
  /** A workflow by file name (`klaviyo_ingest_inc.dig`) or name (`klaviyo_ingest_inc`); throws when unknown. */
  workflow(name: string): WorkflowDefinition;
  /**
   * The params a task of one iteration sees: the workflow's exports, the loop variable set to
   * `datasource`, `td` (`last_results` and any other store params), and `extra` on top.
   */
  taskParams(
    workflow: WorkflowDefinition,
    datasource: Datasource,
    td?: Readonly<Record<string, unknown>>,
    extra?: TemplateParams,
  ): Record<string, unknown>;
  /** Fill `${...}` of a text from `file` with params (Digdag's rules). */
  fill(text: string, params: TemplateParams, file: string): string;
  /** The load config path of a datasource (the loop's td_load> argument filled). */
  loadConfigPath(datasource: Datasource, options?: ReadLoadConfigOptions): string;
  /** Read `config/<config_file>`, fill it with the datasource and `td.last_results`, parse and type it. */
  readLoadConfig(
    datasource: Datasource,
    lastResults: Readonly<Record<string, unknown>>,
    options?: ReadLoadConfigOptions,
  ): LoadConfigResult;
}

/** Throws PROJECT_NOT_FOUND / PROJECT_NO_WORKFLOWS when `dir` is not a project folder. */
function listWorkflowFiles(dir: string): string[] {
  let entries: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new Error('not a directory');
    entries = readdirSync(dir);
  } catch {
    throw configError(`${dir} is not a readable directory`, {
      code: 'PROJECT_NOT_FOUND',
      file: dir,
      fix: 'Pass the project folder (the one holding klaviyo_ingest_inc.dig), or create one with: klaviyo-ingest init',
    });
  }
  const digs = entries.filter((f) => f.endsWith('.dig')).sort();
  if (digs.length === 0) {
    throw configError(`${dir} holds no .dig workflow files`, {
      code: 'PROJECT_NO_WORKFLOWS',
      file: dir,
      fix: 'Pass the project folder (the one holding klaviyo_ingest_inc.dig), or create one with: klaviyo-ingest init',
    });
  }
  return digs;
}

function attempt<T>(problems: IngestError[], read: () => T): T | null {
  try {
    return read();
  } catch (error) {
    if (!(error instanceof IngestError)) throw error;
    const same = problems.some(
      (p) =>
        p.code === error.code && p.file === error.file && p.key === error.key && p.message === error.message,
    );
    if (!same) problems.push(error);
    return null;
  }
}

/** Where a workflow's datasource list comes from, for errors with the right file and line. */
export function datasourceListSource(
  files: ProjectFiles,
  workflow: Pick<WorkflowDefinition, 'file' | 'exportOrigins'>,
  listName: string,
): { yaml: YamlFile; at: (string | number)[] } {
  const origin = workflow.exportOrigins[listName];
  const yaml = origin ? files.parsed(origin) : undefined;
  if (origin && yaml) return { yaml, at: [listName] };
  return { yaml: files.parsed(workflow.file)!, at: ['_export', listName] };
}

function resolveDatasources(
  files: ProjectFiles,
  workflow: Omit<WorkflowDefinition, 'datasources'>,
): readonly Datasource[] | null {
  const loop = workflow.loop;
  if (!loop) return null;
  const { yaml, at } = loop.listName
    ? datasourceListSource(files, workflow, loop.listName)
    : { yaml: files.parsed(workflow.file)!, at: [loop.taskName, 'for_each>', loop.variable] };
  const rendered = fillTemplate(loop.listExpression, workflow.exports, {
    file: workflow.file,
    key: formatPath([loop.taskName, 'for_each>', loop.variable]),
    line: files.parsed(workflow.file)?.lineOf([loop.taskName, 'for_each>', loop.variable]),
  });
  let list: unknown;
  try {
    list = JSON.parse(rendered);
  } catch {
    list = undefined;
  }
  if (!Array.isArray(list)) {
    throw configError(`for_each> list ${loop.listExpression} is not a list`, {
      code: 'DATASOURCE_LIST_INVALID',
      file: yaml.file,
      key: formatPath(at),
      line: yaml.lineOf(at),
      fix: `Define ${loop.listName ?? 'the list'} as a YAML list of datasources (config/klaviyo_datasources.yml).`,
    });
  }
  return parseWith(DatasourceListSchema, list, yaml, { at, fix: DATASOURCE_FIX });
}

export function readProjectSnapshot(dir: string, options: ProjectOptions = {}): ProjectSnapshot {
  const files = new ProjectFiles(dir);
  const workflowFiles = listWorkflowFiles(files.dir);
  const problems: IngestError[] = [];
  const workflows: Record<string, WorkflowDefinition> = {};
  for (const file of workflowFiles) {
    const base = attempt(problems, () => readWorkflow(files, file));
    if (!base) continue;
    const datasources = attempt(problems, () => resolveDatasources(files, base));
    workflows[file] = { ...base, datasources };
  }
  const database = attempt(problems, () => readDatabaseConfig(files));
  const datasources = attempt(problems, () => readDatasourcesConfig(files));
  const dateRanges = files.exists(DATE_RANGES_FILE)
    ? attempt(problems, () => readDateRangesConfig(files))
    : null;
  const credentials = attempt(problems, () => createCredentialsResolver(files.dir, options.env));
  return {
    dir: files.dir,
    files,
    workflowFiles,
    workflows,
    database,
    datasources,
    dateRanges,
    credentials,
    problems,
  };
}

/** Read a project folder; throws the first problem (IngestError, kind 'config'). */
export function loadProject(dir: string, options: ProjectOptions = {}): Project {
  const snapshot = readProjectSnapshot(dir, options);
  const first = snapshot.problems[0];
  if (first) throw first;
  const { files, database, datasources, credentials } = snapshot;
  if (!database || !datasources || !credentials) {
    // Unreachable: a missing part is always a problem above.
    throw configError('project could not be read', { code: 'PROJECT_INCOMPLETE', file: files.dir });
  }
  const workflows = snapshot.workflows;

  const workflowByName = (name: string): WorkflowDefinition => {
    const found = workflows[name] ?? workflows[`${name}.dig`];
    if (found) return found;
    throw configError(`no workflow named ${name}`, {
      code: 'WORKFLOW_NOT_FOUND',
      file: files.dir,
      fix: `Use one of: ${Object.keys(workflows).join(', ')}.`,
    });
  };

  const workflowFor = (datasource: Datasource, option?: WorkflowDefinition | string): WorkflowDefinition => {
    if (option) return typeof option === 'string' ? workflowByName(option) : option;
    const all = Object.values(workflows);
    const found =
      all.find((w) => w.datasources?.includes(datasource)) ??
      all.find((w) => w.datasources?.some((d) => d.table_name === datasource.table_name)) ??
      all[0];
    if (!found)
      throw configError('project has no workflow', { code: 'PROJECT_NO_WORKFLOWS', file: files.dir });
    return found;
  };

  const taskParams: Project['taskParams'] = (workflow, datasource, td = {}, extra = {}) => ({
    timezone: workflow.timezone ?? 'UTC',
    ...workflow.exports,
    [workflow.loop?.variable ?? 'datasource']: datasource,
    td,
    ...extra,
  });

  const loadConfigPath: Project['loadConfigPath'] = (datasource, opts = {}) => {
    const workflow = workflowFor(datasource, opts.workflow);
    const template = workflow.loop?.load?.configPathTemplate ?? 'config/${datasource.config_file}';
    const params = taskParams(workflow, datasource, {}, opts.params);
    return resolveConfigPath(fillTemplate(template, params, { file: workflow.file }), workflow.file);
  };

  return {
    dir: files.dir,
    files,
    databases: database.databases,
    database,
    datasources,
    dateRanges: snapshot.dateRanges,
    workflows,
    credentials,
    workflow: workflowByName,
    taskParams,
    fill: (text, params, file) => fillTemplate(text, params, { file }),
    loadConfigPath,
    readLoadConfig(datasource, lastResults, opts = {}) {
      const workflow = workflowFor(datasource, opts.workflow);
      const file = loadConfigPath(datasource, { ...opts, workflow });
      const params = taskParams(workflow, datasource, { last_results: lastResults }, opts.params);
      return { file, config: readLoadConfigFile(files, file, params) };
    },
  };
}
