/**
 * What every PostgreSQL connection of this destination shares: the session setup (UTC, the safe
 * timestamp parser), the text that COPY and jsonb accept, and reading pg's errors.
 */
import type { ClientBase } from 'pg';
import { toJsonText } from '../json-text.js';

/**
 * `pg_temp.ki_ts(text)`: the text as timestamptz, or NULL when it is not a timestamp (PostgreSQL has
 * no TRY_CAST). Only text starting with a date is tried, so the special inputs (`now`, `today`,
 * `infinity`, `epoch`) never count as timestamps; naive values are read in the session zone, UTC.
 */
const SAFE_TIMESTAMP = `CREATE OR REPLACE FUNCTION pg_temp.ki_ts(value text) RETURNS timestamptz
LANGUAGE plpgsql STABLE AS $ki$
DECLARE
  t text := btrim(value);
BEGIN
  IF t IS NULL OR t !~ '^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}' THEN
    RETURN NULL;
  END IF;
  BEGIN
    RETURN t::timestamptz;
  EXCEPTION WHEN others THEN
    RETURN NULL;
  END;
END
$ki$`;

/** The safe timestamp parser applied to an SQL expression (any type; it is read as text). */
export function safeTimestamp(expression: string): string {
  return `pg_temp.ki_ts(CAST(${expression} AS text))`;
}

const prepared = new WeakSet<ClientBase>();

/** Sets up a connection once (pooled connections are reused): UTC, and `pg_temp.ki_ts`. */
export async function prepareConnection(client: ClientBase): Promise<void> {
  if (prepared.has(client)) return;
  // Naive timestamps are UTC (the workflows' `timezone: UTC`), whatever the server's zone.
  await client.query(`SET TIME ZONE 'UTC'; ${SAFE_TIMESTAMP}`);
  prepared.add(client);
}

/**
 * A JSON value's text as jsonb accepts it: jsonb refuses `\u0000` and unpaired surrogates (which
 * JSON.stringify writes as escapes); both become U+FFFD. A pair written as two escapes (as the API's
 * own text may be) is kept. Each match is a whole escape, so an escaped backslash is never misread.
 */
export function jsonbText(value: unknown): string {
  const text = toJsonText(value);
  if (!text.includes('\\u')) return text;
  return text.replace(JSONB_ESCAPES, (match, pair: string | undefined) =>
    pair === undefined && REFUSED_ESCAPE.test(match) ? '\\ufffd' : match,
  );
}

/** A surrogate pair written as two escapes (kept whole), or any other single escape. */
const JSONB_ESCAPES = /(\\ud[89ab][0-9a-f]{2}\\ud[c-f][0-9a-f]{2})|\\(?:u[0-9a-f]{4}|.)/gi;
const REFUSED_ESCAPE = /^\\u(?:0000|d[89a-f][0-9a-f]{2})$/i;

/** Text as PostgreSQL stores it: it cannot hold NUL characters, which become U+FFFD. */
export function pgText(value: string): string {
  return value.includes('\u0000') ? value.replaceAll('\u0000', '\ufffd') : value;
}

const COPY_SPECIAL = /[\\\t\n\r]/;
const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** A value as a field of COPY's text format (the caller writes `\N` for NULL). */
export function copyField(text: string): string {
  const clean = pgText(text);
  return COPY_SPECIAL.test(clean) ? clean.replace(/[\\\t\n\r]/g, (c) => COPY_ESCAPES[c]!) : clean;
}

interface PgErrorFields {
  code?: unknown;
  message?: unknown;
}

function fields(error: unknown): PgErrorFields {
  return typeof error === 'object' && error !== null ? (error as PgErrorFields) : {};
}

/** pg's message with its SQLSTATE, e.g. `relation "x" does not exist (SQLSTATE 42P01)`. */
export function pgErrorDetail(error: unknown): string {
  const { code, message } = fields(error);
  let text = typeof message === 'string' ? message : String(error);
  if (text === '' && error instanceof AggregateError) {
    // Node's connection attempt to every address of a host: the first failure says enough.
    text = pgErrorDetail(error.errors[0]);
  }
  if (text === '' && typeof code === 'string') text = code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? `${text} (SQLSTATE ${code})` : text;
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
]);

/**
 * True for failures to reach or log in to the server (refused, unknown host, authentication, no such
 * database, server shutting down, connection lost), as opposed to a statement the server refused.
 */
export function isConnectionFailure(error: unknown): boolean {
  const { code, message } = fields(error);
  if (typeof code === 'string') {
    if (NETWORK_CODES.has(code)) return true;
    if (/^(08|28)/.test(code) || code === '3D000' || /^57P0[1-3]$/.test(code)) return true;
  }
  return (
    isConnectionLost(error) ||
    (typeof message === 'string' && /timeout expired when connecting/i.test(message))
  );
}

/**
 * True when an established connection went away: the server ended it (pg_terminate_backend, a
 * restart or shutdown: 57P01/57P02), the socket broke, or pg refuses a client that already lost its
 * connection. The session's work on it (its TEMP stage, an open transaction) is gone with it; the
 * client must be destroyed, never returned to a pool.
 */
export function isConnectionLost(error: unknown): boolean {
  const { code, message } = fields(error);
  if (code === '57P01' || code === '57P02' || code === 'ECONNRESET' || code === 'EPIPE') return true;
  return (
    typeof message === 'string' &&
    /Connection terminated unexpectedly|not queryable|Connection terminated$/i.test(message)
  );
}

/** SQLSTATEs of a CREATE ... IF NOT EXISTS that raced with another session's. */
export function isCreateRace(error: unknown): boolean {
  const { code } = fields(error);
  return code === '23505' || code === '42P07' || code === '42P06' || code === '42710';
}
