/**
 * Where requests go: the base URL (its origin and any path prefix, e.g. a proxy's), paths and
 * `links.next` resolved against it, and the endpoint a URL belongs to (for rate-limit buckets and stats).
 */
import { ingestionError } from '../../util/errors.js';
import { redact } from '../../util/redact.js';
import { normalizeEndpoint } from '../limits.js';
import { appendQuery, buildQuery } from '../query.js';
import type { QueryInput } from './types.js';

export const DEFAULT_BASE_URL = 'https://a.klaviyo.com';

export interface ApiUrls {
  readonly base: URL;
  /**
   * Absolute URL on our origin. Links on another host keep their path but go to our base URL, never
   * elsewhere with our key.
   */
  resolve(pathOrUrl: string, relativeTo?: string): URL;
  /** `/api/events/` → `/api/events`, without the base URL's path prefix. */
  endpointOf(url: URL): string;
}

/** `baseUrlText` with trailing slashes ignored; an invalid URL is a usage error (KLAVIYO_BASE_URL). */
export function apiUrls(baseUrlText: string): ApiUrls {
  const text = baseUrlText.replace(/\/+$/, '');
  let base: URL;
  try {
    base = new URL(text);
  } catch {
    throw ingestionError(`Klaviyo base URL '${redact(text)}' is not a valid URL.`, {
      code: 'KLAVIYO_BASE_URL',
      fix: 'set KLAVIYO_BASE_URL to e.g. https://a.klaviyo.com or http://127.0.0.1:PORT',
    });
  }
  const basePrefix = base.pathname.replace(/\/+$/, '');
  return {
    base,
    resolve: (pathOrUrl, relativeTo) => {
      if (/^https?:\/\//i.test(pathOrUrl)) {
        const u = new URL(pathOrUrl);
        if (u.origin === base.origin) return u;
        return new URL(`${basePrefix}${u.pathname}${u.search}`, base.origin);
      }
      if (relativeTo && !pathOrUrl.startsWith('/')) return new URL(pathOrUrl, relativeTo);
      if (relativeTo && basePrefix && pathOrUrl.startsWith(basePrefix))
        return new URL(pathOrUrl, base.origin);
      return new URL(`${basePrefix}${pathOrUrl.startsWith('/') ? '' : '/'}${pathOrUrl}`, base.origin);
    },
    endpointOf: (url) => {
      const path =
        basePrefix && url.pathname.startsWith(basePrefix)
          ? url.pathname.slice(basePrefix.length)
          : url.pathname;
      return normalizeEndpoint(path);
    },
  };
}

/** `pathOrUrl` with the query appended (a string query is taken as already encoded, `?` optional). */
export function withQuery(pathOrUrl: string, query: QueryInput): string {
  if (query === undefined) return pathOrUrl;
  return appendQuery(pathOrUrl, typeof query === 'string' ? query.replace(/^\?/, '') : buildQuery(query));
}
