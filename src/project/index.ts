/** Reading and validating a klaviyo-ingest project folder (the Treasure Data template layout). */
export {
  DATABASE_FILE,
  DATASOURCES_FILE,
  DATE_RANGES_FILE,
  type DatabaseConfig,
  type Datasource,
  type DatasourcesConfig,
  type DateRange,
  type DateRangesConfig,
} from './config-files.js';
export {
  CREDENTIALS_FILE,
  type CredentialsFile,
  type CredentialsResolver,
  createCredentialsResolver,
  findCredentialsFile,
  type ResolvedCredentials,
} from './credentials.js';
export type { ErrorTask, ForEachLoop, LoadStep, SetupStep, SqlTask, WorkflowDefinition } from './dig-file.js';
export { ExpressionError, evaluateExpression } from './expression.js';
export { deepMerge } from './include.js';
export { type LoadConfig, type LoadConfigIn, parseLoadConfig } from './load-config.js';
export {
  type LoadConfigResult,
  listWorkflowFiles,
  loadProject,
  type Project,
  type ProjectOptions,
  type ProjectSnapshot,
  type ReadLoadConfigOptions,
  readProjectSnapshot,
} from './project.js';
export {
  evaluateTemplateExpression,
  fillDeep,
  fillTemplate,
  renderValue,
  type TemplateContext,
  type TemplateParams,
} from './template.js';
export * from './validation/index.js';
export { parseYamlFile, type YamlFile } from './yaml.js';
