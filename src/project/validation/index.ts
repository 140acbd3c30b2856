export { didYouMean } from './keys.js';
export { assertValid, validateProject } from './registry.js';
export { revisionProblem } from './revision.js';
export type { Finding, ValidationReport } from './types.js';
