import type { StreamSpec } from '../stream.js';

/**
 * The catalog: items, variants and categories filter on ids, titles and parents but never on a time,
 * so each is a full read every run (mode `snapshot` marks what was deleted). 100 a page.
 */
function catalogStream(name: string, endpoint: string, resourceType: string): StreamSpec {
  return { name, endpoint, resourceType, windowFields: {}, pageSize: { max: 100, since: '2026-07-15' } };
}

export const catalogItems = catalogStream('catalog_items', '/api/catalog-items', 'catalog-item');
export const catalogVariants = catalogStream('catalog_variants', '/api/catalog-variants', 'catalog-variant');
export const catalogCategories = catalogStream(
  'catalog_categories',
  '/api/catalog-categories',
  'catalog-category',
);
