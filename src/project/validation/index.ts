export { datasourceRules } from './datasources.js';
export { didYouMean, editDistance, keyRules } from './keys.js';
export { loadConfigRules } from './load-configs.js';
export {
  assertValid,
  LOAD_PROBLEM_CODES,
  RULE_CODES,
  RULE_GROUPS,
  type ValidateOptions,
  validateProject,
  validateSnapshot,
} from './registry.js';
export { FIRST_REVISION, revisionProblem, revisionRules } from './revision.js';
export { gitignoreIgnores, secretRules } from './secrets.js';
export { timestampRules } from './timestamps.js';
export type { Finding, RuleContext, RuleGroup, Severity, ValidationReport } from './types.js';
export { workflowRules } from './workflows.js';
