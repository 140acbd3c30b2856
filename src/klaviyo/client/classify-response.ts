/**
 * What one attempt's answer means: success (a JSON:API document), a retryable failure (a one-line
 * summary and any wait the server asked for), or a fatal failure (an error a person can act on).
 * Which statuses retry is the table in retry-policy.ts; the fatal messages come from http-errors.ts.
 */
import { type IngestError, ingestionError } from '../../util/errors.js';
import { redact } from '../../util/redact.js';
import {
  type CredentialContext,
  type HttpFailure,
  httpFailureError,
  safeUrl,
  statusLabel,
  truncate,
} from '../http-errors.js';
import { firstApiError, type JsonApiDocument, parseJsonApiDocument } from '../json-api.js';
import { parseJsonApiBytes } from '../json-bytes.js';
import type { BodyDecodeError } from '../response-body.js';
import {
  type FailureCause,
  parseExpectedAvailable,
  parseRetryAfter,
  ruleFor,
  TIMEOUT_CODES,
  UNREACHABLE_CODES,
} from '../retry-policy.js';
import { errorCode } from './transport.js';

export type AttemptOutcome =
  | { kind: 'success'; doc: JsonApiDocument }
  | { kind: 'retryable'; failure: RetryableFailure }
  | { kind: 'fatal'; error: IngestError };

export interface RetryableFailure {
  cause: FailureCause;
  /** For the retry event and the final error, e.g. `503 Service Unavailable: "…"`. */
  summary: string;
  /** The server's wait in ms (Retry-After, or a 429's "Expected available in N seconds"). */
  hintMs: number | null;
  /** When the attempt was sent (clock time), once it was. */
  sentAt?: number;
  /** The underlying error, kept (sanitized) as the final error's cause. */
  raw?: unknown;
}

/** An answer as received. */
export interface ReceivedResponse {
  method: string;
  url: URL;
  /** The request carried a `page[cursor]`: a 400 about it means the cursor expired. */
  hadCursor: boolean;
  status: number;
  header(name: string): string | undefined;
  /** The (inflated) body, as bytes: a success page is parsed from them, never decoded whole. */
  body: Buffer;
  undecodable: BodyDecodeError | null;
  /** Parse object and array attributes of the page's resources as `RawJson` (see json-bytes.ts). */
  rawJsonAttributes?: boolean | undefined;
}

export interface ClassifyContext {
  /** Where the key and revision were configured, named by a 401 or a rejected revision. */
  credentials: CredentialContext;
  /** Clock time, to turn a Retry-After date into a wait. */
  now(): number;
}

/** Bytes of a success body decoded to tell HTML and empty bodies from JSON. */
const HEAD_BYTES = 512;

export function isSuccessStatus(status: number): boolean {
  return status >= 200 && status < 300;
}

export function classifyResponse(response: ReceivedResponse, context: ClassifyContext): AttemptOutcome {
  const { status, undecodable } = response;
  if (undecodable) {
    return {
      kind: 'retryable',
      failure: {
        cause: { kind: 'bad-body', reason: 'undecodable compressed body' },
        summary: `${statusLabel(status)} with a body that does not decompress (${errorCode(undecodable.cause) ?? 'error'})`,
        hintMs: null,
        raw: undecodable.cause,
      },
    };
  }
  return isSuccessStatus(status) ? classifySuccess(response) : classifyFailure(response, context);
}

/**
 * A 2xx is a success only with a JSON:API body. HTML (a proxy, a login page) or JSON of another
 * shape is not the Klaviyo API answering: fatal. An empty or cut-off body is retryable.
 */
function classifySuccess({
  method,
  url,
  status,
  header,
  body: bytes,
  rawJsonAttributes,
}: ReceivedResponse): AttemptOutcome {
  const contentType = header('content-type');
  // The start is all these checks need; a body of only whitespace is decoded whole to be sure.
  const head = bytes.toString('utf8', 0, Math.min(bytes.length, HEAD_BYTES));
  const looksHtml = /^\s*</.test(head) || (contentType ?? '').toLowerCase().includes('text/html');
  if (looksHtml) {
    return {
      kind: 'fatal',
      error: ingestionError(
        redact(
          `Klaviyo API ${method} ${safeUrl(url.href)} answered ${statusLabel(status)} with ${
            contentType ?? 'no content type'
          } instead of JSON:API (starts with "${truncate(head, 120)}"). Is KLAVIYO_BASE_URL pointing at the Klaviyo API?`,
        ),
        {
          code: 'KLAVIYO_NOT_JSON_API',
          fix: 'point KLAVIYO_BASE_URL at https://a.klaviyo.com (or the simulator)',
        },
      ),
    };
  }
  const blank = head.trim() === '' && (bytes.length <= HEAD_BYTES || bytes.toString('utf8').trim() === '');
  if (status === 204 || blank) {
    if (status === 204) return { kind: 'success', doc: { data: null } };
    return {
      kind: 'retryable',
      failure: {
        cause: { kind: 'bad-body', reason: 'empty body' },
        summary: `${statusLabel(status)} with an empty body`,
        hintMs: null,
      },
    };
  }
  let body: unknown;
  try {
    body = parseJsonApiBytes(bytes, { rawJsonAttributes });
  } catch (error) {
    return {
      kind: 'retryable',
      failure: {
        cause: { kind: 'bad-body', reason: 'truncated or invalid JSON' },
        summary: `${statusLabel(status)} with a truncated or invalid JSON body (${bytes.length} bytes)`,
        hintMs: null,
        raw: error,
      },
    };
  }
  const parsed = parseJsonApiDocument(body);
  if (!parsed.ok) {
    return {
      kind: 'fatal',
      error: ingestionError(
        redact(
          `Klaviyo API ${method} ${safeUrl(url.href)} answered ${statusLabel(status)} with JSON that is not a JSON:API document (${parsed.problem}).`,
        ),
        { code: 'KLAVIYO_NOT_JSON_API', fix: 'check KLAVIYO_BASE_URL and the endpoint path' },
      ),
    };
  }
  return { kind: 'success', doc: parsed.doc };
}

/** A non-2xx status: retryable or fatal by the status table, with the API's own error detail. */
function classifyFailure(response: ReceivedResponse, context: ClassifyContext): AttemptOutcome {
  const { method, url, status, header, hadCursor } = response;
  const text = response.body.toString('utf8');
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  const apiError = firstApiError(body);
  const info: HttpFailure = {
    method,
    url: url.href,
    status,
    apiError,
    contentType: header('content-type'),
    bodySnippet: apiError ? undefined : text.slice(0, 500) || undefined,
    cfMitigated: header('cf-mitigated'),
    hadCursor,
  };
  const cause: FailureCause = { kind: 'status', status };
  const rule = ruleFor(cause);
  if (!rule.retry) {
    return { kind: 'fatal', error: httpFailureError(info, rule.code, undefined, context.credentials) };
  }
  let hintMs = parseRetryAfter(header('retry-after'), context.now());
  if (hintMs === null && status === 429) hintMs = parseExpectedAvailable(apiError?.detail);
  const detail = apiError?.detail ? `: "${truncate(apiError.detail, 160)}"` : '';
  return { kind: 'retryable', failure: { cause, summary: `${statusLabel(status)}${detail}`, hintMs } };
}

/**
 * No answer, or one cut off: a timeout or a connection failure (`status` is set when the headers
 * had arrived). Always retried; the code goes into the summary.
 */
export function classifyTransportError(error: unknown, status: number, timeoutMs: number): AttemptOutcome {
  const code = errorCode(error) ?? 'UNKNOWN';
  const isTimeout = TIMEOUT_CODES.has(code);
  // Only a connection that never opened is "unreachable"; one refused after headers arrived is not.
  const cause: FailureCause = isTimeout
    ? { kind: 'timeout' }
    : UNREACHABLE_CODES.has(code) && status === 0
      ? { kind: 'unreachable', code }
      : { kind: 'connection', code };
  const summary = isTimeout
    ? `timed out after ${timeoutMs} ms (${code})`
    : `connection failed${status ? ` after ${statusLabel(status)}` : ''}: ${truncate(redact(error instanceof Error ? error.message : String(error)), 160)} (${code})`;
  return { kind: 'retryable', failure: { cause, summary, hintMs: null, raw: error } };
}
