export {
  type ClientStats,
  createKlaviyoClient,
  DEFAULT_BASE_URL,
  type EndpointStats,
  type KlaviyoClient,
  type KlaviyoClientEvent,
  type KlaviyoClientOptions,
  type Page,
  type PaginateOptions,
  type QueryInput,
  type RequestOptions,
  sharedRateLimiterRegistry,
} from './client.js';
export * from './filter.js';
export type { DocumentLinks, JsonApiDocument, JsonApiError, Relationship, Resource } from './json-api.js';
export { bucketsFor, normalizeEndpoint } from './limits.js';
export { appendQuery, buildQuery, encodeQueryComponent, type QueryParams } from './query.js';
export {
  parseRateLimitLimit,
  type RateBudget,
  RateLimiter,
  RateLimiterRegistry,
  type RateLimiterSnapshot,
  type RateLimits,
} from './rate-limiter.js';
export {
  backoffDelay,
  parseExpectedAvailable,
  parseRetryAfter,
  RETRYABLE_CONNECTION_CODES,
  retryDelay,
  ruleFor,
  STATUS_RULES,
} from './retry-policy.js';
