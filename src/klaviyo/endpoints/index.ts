export { CATALOG } from './catalog.generated.js';
export {
  entryFor,
  FIXED_PAGE_SIZE,
  isBefore,
  newestRateLimit,
  parseRevision,
  type Revision,
} from './revision.js';
export {
  type ChildCollectionName,
  type CollectionName,
  ENDPOINT_NAMES,
  ENDPOINT_OPERATIONS,
  type EndpointCatalog,
  type EndpointName,
  type EndpointSpec,
  type PageSizeSpec,
  type RevisionEntry,
  type ServedCollectionName,
} from './types.js';
