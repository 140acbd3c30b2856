/**
 * Turning a failed Klaviyo call into an IngestError a person can act on: method, URL (never a
 * secret), status, the API's own `detail` and `source.parameter`, and what to do.
 */
import { type IngestError, ingestionError } from '../util/errors.js';
import { redact } from '../util/redact.js';
import type { JsonApiError } from './json-api.js';

const STATUS_TEXT: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  410: 'Gone',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
  524: 'A Timeout Occurred',
};

export function statusLabel(status: number): string {
  const text = STATUS_TEXT[status];
  return text ? `${status} ${text}` : String(status);
}

/** Longest URL we print; filters can be long, but a message should stay readable. */
const MAX_URL = 600;

export function safeUrl(url: string): string {
  const clean = redact(url);
  return clean.length > MAX_URL ? `${clean.slice(0, MAX_URL)}…` : clean;
}

export function truncate(text: string, max = 300): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > max ? `${oneLine.slice(0, max)}…` : oneLine;
}

export interface HttpFailure {
  method: string;
  url: string;
  status: number;
  apiError: JsonApiError | null;
  contentType: string | undefined;
  /** Start of the body when it is not JSON (HTML, text). */
  bodySnippet: string | undefined;
  cfMitigated: string | undefined;
  /** The request carried a `page[cursor]`. */
  hadCursor: boolean;
}

function isCursorError(failure: HttpFailure): boolean {
  if (failure.status !== 400) return false;
  const detail = failure.apiError?.detail ?? '';
  const parameter = failure.apiError?.source?.parameter ?? '';
  if (/invalid cursor/i.test(detail)) return true;
  return failure.hadCursor && (parameter === 'page[cursor]' || /cursor/i.test(detail));
}

function isHtml(failure: HttpFailure): boolean {
  return (
    (failure.contentType ?? '').toLowerCase().includes('text/html') ||
    /^\s*<(!doctype|html)/i.test(failure.bodySnippet ?? '')
  );
}

/** The API's own words: `detail` and `source.parameter`, or the body's start when it is not JSON:API. */
function describeApiError(failure: HttpFailure): string {
  const e = failure.apiError;
  if (e) {
    const parts: string[] = [];
    const text = e.detail ?? e.title;
    if (text) parts.push(`"${truncate(text)}"`);
    if (e.source?.parameter) parts.push(`(parameter: ${e.source.parameter})`);
    else if (e.source?.pointer) parts.push(`(pointer: ${e.source.pointer})`);
    if (e.code) parts.push(`[code ${e.code}]`);
    return parts.join(' ');
  }
  if (failure.bodySnippet) return `body: "${truncate(failure.bodySnippet, 200)}"`;
  return 'no error details in the body';
}

/** Where the client's key and revision were configured, so a 401 or a rejected revision names the setting to fix. */
export interface CredentialContext {
  /** `env KLAVIYO_API_KEY`, or the credentials file path (never the key). */
  keySource?: string | undefined;
  /** The revision header sent. */
  revision?: string | undefined;
  /** `env KLAVIYO_REVISION`, `<file> klaviyo_revision_time`; undefined = the built-in default. */
  revisionSource?: string | null | undefined;
}

/** A 400 about the `revision` header (Klaviyo: "must be a valid revision"). */
function isRevisionError(failure: HttpFailure): boolean {
  if (failure.status !== 400 && failure.status !== 410) return false;
  const parameter = failure.apiError?.source?.parameter ?? '';
  const detail = failure.apiError?.detail ?? '';
  return parameter.toLowerCase() === 'revision' || /\brevision\b/i.test(detail);
}

/** `/api/events?...` -> `events:read` (the scope Klaviyo's read endpoints need). */
function readScopeFor(url: string): string | null {
  try {
    const m = /^\/api\/([a-z-]+)\/?$/.exec(new URL(url).pathname);
    return m ? `${m[1]}:read` : null;
  } catch {
    return null;
  }
}

function keyFix(context: CredentialContext): string {
  const source = context.keySource;
  if (source === undefined)
    return 'set a valid private API key (pk_...) in KLAVIYO_API_KEY or credentials_ingestion.json';
  if (source.startsWith('env ')) {
    return 'set KLAVIYO_API_KEY to a valid private API key (pk_..., Klaviyo > Settings > API keys), or unset it to use credentials_ingestion.json';
  }
  const accountKey = /\(accounts\.([^)]+)\)$/.exec(source);
  const file = source.replace(/ \(accounts\.[^)]+\)$/, '');
  return accountKey
    ? `set accounts.${accountKey[1]}.klaviyo_api_token in ${file} to a valid private API key (pk_..., Klaviyo > Settings > API keys)`
    : `set klaviyo_api_token in ${file} to a valid private API key (pk_..., Klaviyo > Settings > API keys)`;
}

function revisionSetting(context: CredentialContext): string {
  const source = context.revisionSource;
  if (!source) return 'the built-in default revision';
  if (source.startsWith('env ')) return 'KLAVIYO_REVISION (environment)';
  const at = source.lastIndexOf(' ');
  return `${source.slice(at + 1)} in ${source.slice(0, at)}`;
}

export function httpFailureError(
  failure: HttpFailure,
  code: string,
  cause?: unknown,
  context: CredentialContext = {},
): IngestError {
  const where = `${failure.method} ${safeUrl(failure.url)}`;
  const head = `Klaviyo API ${where} failed with ${statusLabel(failure.status)}: ${describeApiError(failure)}.`;
  let message = head;
  let fix: string | undefined;
  let finalCode = code;
  switch (failure.status) {
    case 400:
      if (isRevisionError(failure)) {
        finalCode = 'KLAVIYO_REVISION';
        message = `${head} Klaviyo rejected the API revision ${context.revision ? `"${context.revision}" ` : ''}set by ${revisionSetting(context)}.`;
        fix = context.revisionSource?.startsWith('env ')
          ? 'set KLAVIYO_REVISION to a current Klaviyo API revision (YYYY-MM-DD, e.g. 2026-07-15), or unset it'
          : 'set klaviyo_revision_time in credentials_ingestion.json (or KLAVIYO_REVISION) to a current Klaviyo API revision (YYYY-MM-DD, e.g. 2026-07-15)';
      } else if (isCursorError(failure)) {
        finalCode = 'KLAVIYO_CURSOR_EXPIRED';
        message = `${head} The page cursor is no longer valid; restart the listing from the last saved position.`;
        fix = 'rerun: the load restarts from the last committed window';
      } else {
        fix = 'check the filter / parameter named above against the endpoint and revision';
      }
      break;
    case 401:
      message =
        context.keySource === undefined
          ? `${head} The API key was rejected: use a private API key (it starts with pk_) from Klaviyo > Settings > API keys, set it in KLAVIYO_API_KEY or in credentials_ingestion.json (klaviyo_api_token).`
          : `${head} The API key from ${context.keySource} was rejected: use a private API key (it starts with pk_) from Klaviyo > Settings > API keys.`;
      fix = keyFix(context);
      break;
    case 403:
      if (isHtml(failure)) {
        message = `${head} The answer is an HTML page, not JSON:API: this looks like a Cloudflare/WAF block${
          failure.cfMitigated ? ` (cf-mitigated: ${failure.cfMitigated})` : ''
        } rather than a Klaviyo permission error. Retry later or from another network, and check proxies in between.`;
        fix = 'retry later or from another network; check any proxy or firewall in between';
      } else {
        const scope = readScopeFor(failure.url);
        const key = context.keySource ? `The API key from ${context.keySource}` : 'The API key';
        message = scope
          ? `${head} ${key} lacks the ${scope} scope this endpoint needs: give the private key read access to it in Klaviyo > Settings > API keys.`
          : `${head} ${key} lacks a scope this endpoint needs (e.g. events:read for /api/events, profiles:read for /api/profiles): give the private key read access to it in Klaviyo > Settings > API keys.`;
        fix = scope
          ? `add the ${scope} scope to the private API key (or leave this datasource out with --sources)`
          : 'add the missing read scope (e.g. events:read) to the private API key';
      }
      break;
    case 404:
      fix = 'check the endpoint path and KLAVIYO_BASE_URL';
      break;
    case 410:
      message = `${head} The endpoint or API revision${context.revision ? ` ${context.revision}` : ''} is no longer available; use a current revision (set by ${revisionSetting(context)}).`;
      fix = 'set klaviyo_revision_time (or KLAVIYO_REVISION) to a current API revision, e.g. 2026-07-15';
      break;
    default:
      break;
  }
  return ingestionError(redact(message), {
    code: finalCode,
    ...(fix ? { fix } : {}),
    ...(cause === undefined ? {} : { cause }),
  });
}
