import { RANGE_OPERATORS, type StreamSpec, windowField } from '../stream.js';
import { segments } from './segments.js';

/** The ids of each segment's members now, as `listMemberIds`. */
export const segmentMemberIds: StreamSpec = {
  name: 'segment_member_ids',
  endpoint: '/api/segments/{id}/relationships/profiles',
  resourceType: 'profile',
  windowFields: {},
  pageSize: { max: 100, since: '2025-10-15' },
  parent: { stream: segments, column: 'segment_id' },
  since: '2025-10-15',
};

/**
 * The profiles of each segment, like list memberships: `id` is `<segment_id>:<profile_id>`; the rows
 * of profiles no longer in the segment are marked `_deleted_at`.
 */
export const segmentMemberships: StreamSpec = {
  name: 'segment_memberships',
  endpoint: '/api/segments/{id}/profiles',
  resourceType: 'profile',
  windowFields: { joined_group_at: windowField('joined_group_at', RANGE_OPERATORS) },
  pageSize: { max: 100, since: '2023-02-22' },
  parent: { stream: segments, column: 'segment_id', ownIdColumn: 'profile_id', memberIds: segmentMemberIds },
  since: '2025-10-15',
};
