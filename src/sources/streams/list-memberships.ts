import { RANGE_OPERATORS, type StreamSpec, windowField } from '../stream.js';
import { lists } from './lists.js';

/**
 * The profiles of each list, windowed on `joined_group_at` (a lookback re-reads late memberships).
 * A profile is in many lists: `id` is `<list_id>:<profile_id>`. A profile that left the list has its
 * rows marked `_deleted_at` (its ids read from `listMemberIds`).
 */
/**
 * The ids of each list's members now (ids only, 100 a page, the memberships' rate tier): read whole
 * every run to mark the memberships of profiles that left the list. Not a data source of its own.
 */
export const listMemberIds: StreamSpec = {
  name: 'list_member_ids',
  endpoint: '/api/lists/{id}/relationships/profiles',
  resourceType: 'profile',
  windowFields: {},
  pageSize: { max: 100, since: '2025-10-15' },
  parent: { stream: lists, column: 'list_id' },
  since: '2025-10-15',
};

export const listMemberships: StreamSpec = {
  name: 'list_memberships',
  endpoint: '/api/lists/{id}/profiles',
  resourceType: 'profile',
  windowFields: { joined_group_at: windowField('joined_group_at', RANGE_OPERATORS) },
  pageSize: { max: 100, since: '2023-02-22' },
  parent: { stream: lists, column: 'list_id', ownIdColumn: 'profile_id', memberIds: listMemberIds },
  // joined_group_at is filtered and sorted on from the 2025-10-15 document on (2023-02-22's has neither).
  since: '2025-10-15',
};
