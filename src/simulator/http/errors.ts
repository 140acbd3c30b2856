import { randomUUID } from 'node:crypto';

/** A JSON:API error as Klaviyo sends it (integer status, `links: {}`, `meta: {}`). */
export interface ApiErrorObject {
  id: string;
  status: number;
  code: string;
  title: string;
  detail: string;
  source: { parameter?: string; pointer?: string };
  links: Record<string, string>;
  meta: Record<string, unknown>;
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly title: string;
  readonly source: { parameter?: string; pointer?: string };
  readonly headers: Record<string, string>;

  constructor(
    status: number,
    code: string,
    title: string,
    detail: string,
    source: { parameter?: string; pointer?: string } = { pointer: '/data/' },
    headers: Record<string, string> = {},
  ) {
    super(detail);
    this.status = status;
    this.code = code;
    this.title = title;
    this.source = source;
    this.headers = headers;
  }

  body(): { errors: ApiErrorObject[] } {
    return {
      errors: [
        {
          id: randomUUID(),
          status: this.status,
          code: this.code,
          title: this.title,
          detail: this.message,
          source: this.source,
          links: {},
          meta: {},
        },
      ],
    };
  }
}

/** 400 `invalid` "Invalid input." with `source.parameter`. */
export function invalidParam(parameter: string, detail: string): ApiError {
  return new ApiError(400, 'invalid', 'Invalid input.', detail, { parameter });
}

const PARENTHESES_DETAIL = 'Invalid filter provided. Verify your parentheses match.';

export function invalidFilter(detail: string = PARENTHESES_DETAIL): ApiError {
  return invalidParam('filter', detail);
}

export function authenticationFailed(): ApiError {
  return new ApiError(
    401,
    'authentication_failed',
    'Incorrect authentication credentials.',
    'Missing or invalid authorization',
  );
}

export function permissionDenied(scope: string): ApiError {
  return new ApiError(
    403,
    'permission_denied',
    'You do not have permission to perform this action.',
    `This API key is missing required scopes: ${scope}.`,
  );
}

export function throttled(seconds: number, withRetryAfter: boolean): ApiError {
  const unit = seconds === 1 ? 'second' : 'seconds';
  return new ApiError(
    429,
    'throttled',
    'Request was throttled.',
    `Request was throttled. Expected available in ${seconds} ${unit}.`,
    { pointer: '/data/' },
    withRetryAfter ? { 'Retry-After': String(seconds) } : {},
  );
}

export function notFound(path: string): ApiError {
  return new ApiError(404, 'not_found', 'Not found.', `No resource at ${path}.`);
}

export function serverError(status: number): ApiError {
  const titles: Record<number, string> = {
    500: 'A server error occurred.',
    502: 'Bad gateway.',
    503: 'Service unavailable.',
    504: 'Gateway timeout.',
  };
  return new ApiError(
    status,
    'error',
    titles[status] ?? 'A server error occurred.',
    'A server error occurred.',
  );
}
