import { RANGE_OPERATORS, type StreamSpec, windowField } from '../stream.js';

/**
 * The memberships of each list or segment (`group`), windowed on `joined_group_at` (a lookback re-reads
 * late memberships). A profile is in many groups: `id` is `<group id>:<profile id>`. A profile that left
 * the group has its rows marked `_deleted_at`, from the group's member ids read whole every run
 * (`relationships/profiles`: ids only, 100 a page, the memberships' rate tier; not a data source).
 */
export function membershipStreams(
  group: StreamSpec,
  kind: 'list' | 'segment',
): { memberIds: StreamSpec; memberships: StreamSpec } {
  const column = `${kind}_id`;
  const memberIds: StreamSpec = {
    name: `${kind}_member_ids`,
    endpoint: `/api/${kind}s/{id}/relationships/profiles`,
    resourceType: 'profile',
    windowFields: {},
    pageSize: { max: 100, since: '2025-10-15' },
    parent: { stream: group, column },
    since: '2025-10-15',
  };
  const memberships: StreamSpec = {
    name: `${kind}_memberships`,
    endpoint: `/api/${kind}s/{id}/profiles`,
    resourceType: 'profile',
    windowFields: { joined_group_at: windowField('joined_group_at', RANGE_OPERATORS) },
    pageSize: { max: 100, since: '2023-02-22' },
    parent: { stream: group, column, ownIdColumn: 'profile_id', memberIds },
    // joined_group_at is filtered and sorted on from the 2025-10-15 document on (2023-02-22's has neither).
    since: '2025-10-15',
  };
  return { memberIds, memberships };
}
