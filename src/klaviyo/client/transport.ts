/**
 * One HTTP exchange with the API over an undici `Pool` (keep-alive, many requests in flight): the
 * headers every request carries (the API key among them; they never leave this module), a timeout
 * for the headers and for each pause in the body, and the body read as text, inflated per its
 * Content-Encoding.
 */
import { Pool } from 'undici';
import { redact } from '../../util/redact.js';
import { BodyDecodeError, readResponseBytes } from '../response-body.js';

export interface TransportOptions {
  /** Scheme, host and port; paths come with each request. */
  origin: string;
  apiKey: string;
  /** The `revision` header. */
  revision: string;
  userAgent: string;
  timeoutMs: number;
  /** Open connections to the API. */
  connections: number;
}

export interface Transport {
  /**
   * Sends one request and resolves once the status and headers have arrived. Throws the transport's
   * own error (connection, timeout, the signal's abort).
   */
  request(
    method: 'GET' | 'POST',
    url: URL,
    payload: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<TransportResponse>;
  /** Closes the pool; pending requests finish first. */
  close(): Promise<void>;
}

export interface TransportResponse {
  status: number;
  /** A response header's (first) value; `name` in lower case. */
  header(name: string): string | undefined;
  /**
   * Reads the whole body. Throws the transport's error when receiving fails; a body that arrived but
   * does not inflate is reported in `undecodable`, not thrown.
   */
  readBody(): Promise<ReceivedBody>;
}

export interface ReceivedBody {
  /** The inflated body; empty when it is undecodable. Valid until `release()`. */
  bytes: Buffer;
  /** Bytes as received, before inflating. */
  wireBytes: number;
  undecodable: BodyDecodeError | null;
  /** Gives the body's buffer back for the next response (response-body.ts). */
  release(): void;
}

export function createTransport(options: TransportOptions): Transport {
  const { timeoutMs } = options;
  const pool = new Pool(options.origin, {
    connections: options.connections,
    pipelining: 1,
    keepAliveTimeout: 30_000,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
  const headers: Record<string, string> = {
    authorization: `Klaviyo-API-Key ${options.apiKey}`,
    revision: options.revision,
    accept: 'application/vnd.api+json',
    'accept-encoding': 'gzip, deflate, br',
    'user-agent': options.userAgent,
  };
  return {
    request: async (method, url, payload, signal) => {
      const res = await pool.request({
        method,
        path: `${url.pathname}${url.search}`,
        headers: payload === undefined ? headers : { ...headers, 'content-type': 'application/vnd.api+json' },
        ...(payload === undefined ? {} : { body: payload }),
        ...(signal ? { signal } : {}),
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      const resHeaders = res.headers as Record<string, string | string[] | undefined>;
      const header = (name: string): string | undefined => {
        const value = resHeaders[name];
        return Array.isArray(value) ? value[0] : value;
      };
      return {
        status: res.statusCode,
        header,
        readBody: async () => {
          try {
            const { bytes, wireBytes, release } = await readResponseBytes(
              res.body,
              header('content-encoding'),
            );
            return { bytes, wireBytes, undecodable: null, release };
          } catch (error) {
            if (!(error instanceof BodyDecodeError)) throw error;
            return {
              bytes: Buffer.alloc(0),
              wireBytes: error.wireBytes,
              undecodable: error,
              release: () => {},
            };
          }
        },
      };
    },
    close: () => pool.close(),
  };
}

/** The Node / undici code of a transport error (`ECONNRESET`, `UND_ERR_BODY_TIMEOUT`…), looking through its causes. */
export function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  const cause = (error as { cause?: unknown }).cause;
  return cause === error ? undefined : errorCode(cause);
}

/** An undici / Node error reduced to what is safe to keep (no request object, no headers). */
export function sanitizedCause(error: unknown): Error {
  const message = error instanceof Error ? error.message : String(error);
  const code = errorCode(error);
  const out = new Error(redact(code ? `${message} (${code})` : message));
  out.name = error instanceof Error ? error.name : 'Error';
  return out;
}
