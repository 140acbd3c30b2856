/**
 * A listing read page by page, following `links.next` until there is none. Each page is requested
 * only when the caller asks for it. A `next` link back to the page just read or the one before is a
 * loop in the API's paging: an error, rather than reading forever.
 */
import { ingestionError } from '../../util/errors.js';
import { redact } from '../../util/redact.js';
import { safeUrl } from '../http-errors.js';
import type { JsonApiDocument } from '../json-api.js';
import type { Page, PaginateOptions, QueryInput } from './types.js';
import { withQuery } from './urls.js';

export interface PageSource {
  /** An absolute URL for a path, or for a `links.next` relative to the page it came from. */
  resolve(pathOrUrl: string, relativeTo?: string): URL;
  get(url: URL, signal: AbortSignal | undefined, rawJsonAttributes?: boolean): Promise<JsonApiDocument>;
  now(): number;
}

const sameUrl = (a: string, b: string | null) => b !== null && a === b;

export async function* paginate(
  source: PageSource,
  path: string,
  query: QueryInput,
  options: PaginateOptions,
): AsyncGenerator<Page, void, undefined> {
  const { signal, maxPages, rawJsonAttributes = false } = options;
  let url: URL | null = source.resolve(withQuery(path, query));
  let previous: string | null = null;
  let pageNumber = 0;
  while (url) {
    const doc = await source.get(url, signal, rawJsonAttributes);
    pageNumber++;
    const nextLink = doc.links?.next;
    const next: URL | null =
      typeof nextLink === 'string' && nextLink !== '' ? source.resolve(nextLink, url.href) : null;
    if (next && (sameUrl(next.href, url.href) || sameUrl(next.href, previous))) {
      throw ingestionError(
        redact(
          `Klaviyo API pagination loop: page ${pageNumber} of ${safeUrl(url.href)} links to a page already read (${safeUrl(next.href)}).`,
        ),
        { code: 'KLAVIYO_PAGINATION_LOOP', fix: 'rerun; if it persists, report the endpoint and filter' },
      );
    }
    const data = doc.data === null ? [] : Array.isArray(doc.data) ? doc.data : [doc.data];
    yield {
      data,
      included: doc.included ?? [],
      url: safeUrl(url.href),
      pageNumber,
      nextUrl: next ? safeUrl(next.href) : null,
      receivedAt: source.now(),
    };
    if (next && maxPages !== undefined && pageNumber >= maxPages) {
      throw ingestionError(
        redact(`Klaviyo API pagination of ${safeUrl(path)} passed the limit of ${maxPages} pages.`),
        { code: 'KLAVIYO_PAGINATION_LIMIT' },
      );
    }
    previous = url.href;
    url = next;
  }
}
