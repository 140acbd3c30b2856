/** Reading and validating a klaviyo-ingest project folder (the Treasure Data template layout). */
export type { Datasource } from './config-files.js';
export { createCredentialsResolver } from './credentials.js';
export type { WorkflowDefinition } from './dig-file.js';
export { evaluateExpression } from './expression.js';
export { parseLoadConfig } from './load-config.js';
export { loadProject, type Project, readProjectSnapshot } from './project.js';
export { fillTemplate } from './template.js';
export * from './validation/index.js';
export { parseYamlFile } from './yaml.js';
