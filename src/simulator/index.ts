export {
  CATALOG,
  type CollectionName,
  ENDPOINT_NAMES,
  type EndpointName,
  entryFor,
  parseRevision,
  type Revision,
} from '../klaviyo/endpoints/index.js';
export type { FieldValue, JsonResource } from './data/collection.js';
export {
  type DataOptions,
  DEFAULT_COUNTS,
  type HoldBackSpec,
  type RecordCounts,
  SimulatorData,
  type WindowSpec,
} from './data/store.js';
export { formatKlaviyoTime } from './data/time-format.js';
export { ApiError } from './http/errors.js';
export { type FaultKind, type FaultRule, parseFaultSpec } from './http/faults.js';
export { type Limits, parseRateLimitMode, type RateLimitOptions, type TierName } from './http/rate-limit.js';
export type { RequestLogEntry } from './http/request-log.js';
export { parseFilterDatetime } from './query/datetime.js';
export { type Condition, type Literal, parseFilter } from './query/filter-parser.js';
export {
  DEMO_API_KEY,
  type PageCacheStats,
  type Simulator,
  type SimulatorOptions,
  startSimulator,
} from './server.js';
