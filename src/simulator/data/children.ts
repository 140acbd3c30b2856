/**
 * Child collections: records served per parent (`/api/lists/{id}/profiles`, `/api/flows/{id}/flow-actions`
 * …). Each parent's children are a small collection of their own, kept between requests so the query
 * engine's cached sort orders stay valid until a mutation bumps its version.
 */
import type { ServedCollectionName } from '../../klaviyo/endpoints/index.js';
import type {
  BuildContext,
  Collection,
  FieldDef,
  FieldKind,
  FieldValue,
  JsonResource,
} from './collection.js';
import { relLinks, selfLink } from './collection.js';
import { randomAlnum } from './ids.js';
import type { ProfilesCollection } from './profiles.js';
import { pick, type Rng } from './random.js';
import type { CampaignRecord, FlowRecord, SmallRecord } from './small.js';
import { formatKlaviyoTime } from './time-format.js';

interface ChildSpec<R> {
  id: (r: R) => string;
  fields: Record<string, { kind: FieldKind; get: (r: R) => FieldValue }>;
  build: (r: R, ctx: BuildContext) => JsonResource;
}

/** The children of one parent. */
export class ChildCollection<R> implements Collection {
  readonly naturalFields: ReadonlySet<string> = new Set();
  readonly records: R[] = [];
  private ver = 0;
  private readonly defs: Record<string, FieldDef> = {};

  constructor(
    readonly name: ServedCollectionName,
    readonly type: string,
    private readonly spec: ChildSpec<R>,
  ) {
    for (const [field, def] of Object.entries(spec.fields))
      this.defs[field] = { kind: def.kind, get: (i) => def.get(this.records[i] as R) };
    this.defs.id ??= { kind: 'string', get: (i) => spec.id(this.records[i] as R) };
  }

  size(): number {
    return this.records.length;
  }
  version(): number {
    return this.ver;
  }
  touch(): void {
    this.ver++;
  }
  add(record: R): void {
    this.records.push(record);
    this.ver++;
  }
  /** Removes the record at index `i`. */
  removeAt(i: number): R {
    const [removed] = this.records.splice(i, 1);
    this.ver++;
    return removed as R;
  }
  id(i: number): string {
    return this.spec.id(this.records[i] as R);
  }
  field(name: string): FieldDef | undefined {
    return this.defs[name];
  }
  resource(i: number, ctx: BuildContext): JsonResource {
    return this.spec.build(this.records[i] as R, ctx);
  }
}

const t = (ms: number) => formatKlaviyoTime(ms, 'micro');

// ---------------------------------------------------------------- list and segment memberships

export interface Membership {
  /** Index into the profiles collection. */
  profile: number;
  joinedAt: number;
}

/** The attributes a group-member profile has (the profile's own, plus joined_group_at). */
const MEMBER_ATTRIBUTES = [
  'email',
  'phone_number',
  'external_id',
  'first_name',
  'last_name',
  'organization',
  'locale',
  'title',
  'image',
  'created',
  'updated',
  'last_event_date',
  'location',
  'properties',
] as const;

function membershipSpec(profiles: ProfilesCollection, group: 'lists' | 'segments'): ChildSpec<Membership> {
  return {
    id: (m) => profiles.id(m.profile),
    fields: {
      joined_group_at: { kind: 'datetime', get: (m) => m.joinedAt },
      email: { kind: 'string', get: (m) => profiles.email(m.profile) },
      phone_number: { kind: 'string', get: (m) => profiles.phone(m.profile) },
      push_token: { kind: 'string', get: () => null },
      _kx: { kind: 'string', get: () => null },
      ...(group === 'segments'
        ? { profile_id: { kind: 'string' as const, get: (m: Membership) => profiles.id(m.profile) } }
        : {}),
    },
    build: (m, ctx) => {
      const profile = profiles.resource(m.profile, { ...ctx, additional: new Set(), include: new Set() });
      const attributes: Record<string, unknown> = {};
      for (const name of MEMBER_ATTRIBUTES) attributes[name] = profile.attributes[name] ?? null;
      attributes.joined_group_at = t(m.joinedAt);
      return {
        type: 'profile',
        id: profile.id,
        attributes,
        relationships: {
          [group]: { links: relLinks(ctx.baseUrl, 'profiles', profile.id, group) },
        },
        links: selfLink(ctx.baseUrl, 'profiles', profile.id),
      };
    },
  };
}

// ---------------------------------------------------------------- flow actions and messages

export interface FlowActionRecord {
  id: string;
  flowId: string;
  created: number;
  updated: number;
  actionType: 'SEND_EMAIL' | 'SEND_SMS' | 'TIME_DELAY';
  status: 'live' | 'draft' | 'manual';
}

export interface FlowMessageRecord {
  id: string;
  actionId: string;
  name: string;
  channel: 'email' | 'sms';
  created: number;
  updated: number;
}

const flowActionSpec: ChildSpec<FlowActionRecord> = {
  id: (a) => a.id,
  fields: {
    action_type: { kind: 'string', get: (a) => a.actionType },
    status: { kind: 'string', get: (a) => a.status },
    created: { kind: 'datetime', get: (a) => a.created },
    updated: { kind: 'datetime', get: (a) => a.updated },
  },
  build: (a, ctx) => ({
    type: 'flow-action',
    id: a.id,
    attributes: {
      created: t(a.created),
      updated: t(a.updated),
      // The encoded action definitions are not simulated.
      definition: null,
    },
    relationships: {
      flow: {
        data: { type: 'flow', id: a.flowId },
        links: relLinks(ctx.baseUrl, 'flow-actions', a.id, 'flow'),
      },
      'flow-messages': { links: relLinks(ctx.baseUrl, 'flow-actions', a.id, 'flow-messages') },
    },
    links: selfLink(ctx.baseUrl, 'flow-actions', a.id),
  }),
};

const flowMessageSpec: ChildSpec<FlowMessageRecord> = {
  id: (m) => m.id,
  fields: {
    name: { kind: 'string', get: (m) => m.name },
    created: { kind: 'datetime', get: (m) => m.created },
    updated: { kind: 'datetime', get: (m) => m.updated },
  },
  build: (m, ctx) => ({
    type: 'flow-message',
    id: m.id,
    attributes: { channel: m.channel, created: t(m.created), updated: t(m.updated), definition: null },
    relationships: {
      'flow-action': {
        data: { type: 'flow-action', id: m.actionId },
        links: relLinks(ctx.baseUrl, 'flow-messages', m.id, 'flow-action'),
      },
    },
    links: selfLink(ctx.baseUrl, 'flow-messages', m.id),
  }),
};

// ---------------------------------------------------------------- the children of every parent

export type ChildEndpoint =
  | 'list-profiles'
  | 'segment-profiles'
  | 'list-profile-ids'
  | 'segment-profile-ids'
  | 'flow-actions'
  | 'flow-messages'
  | 'campaign-messages';

/** Late or new memberships to add: how many, and when they joined (default: now). */
export interface MembershipChange {
  lists?: number;
  segments?: number;
  /** `joined_group_at` of the new memberships (a time before the last run: a late membership). */
  joinedAt?: number;
}

/** A membership taken away by `removeMemberships`, to restore it later. */
export interface RemovedMembership {
  group: 'lists' | 'segments';
  parentId: string;
  profileId: string;
  /** Index into the profiles collection. */
  profile: number;
  joinedAt: number;
}

/** Everything served per parent, generated from the parents and profiles and kept up to date. */
export class ChildData {
  private readonly members = {
    lists: new Map<string, ChildCollection<Membership>>(),
    segments: new Map<string, ChildCollection<Membership>>(),
  };
  private readonly actions = new Map<string, ChildCollection<FlowActionRecord>>();
  private readonly messages = new Map<string, ChildCollection<FlowMessageRecord>>();
  private readonly campaignMessages = new Map<string, ChildCollection<CampaignRecord>>();
  private counter = 0;

  constructor(
    private readonly seed: number,
    private readonly profiles: ProfilesCollection,
    private readonly parents: {
      lists: { readonly records: readonly SmallRecord[] };
      segments: { readonly records: readonly SmallRecord[] };
      flows: { readonly records: readonly FlowRecord[] };
      campaigns: { readonly records: readonly CampaignRecord[] };
    },
    private readonly campaignMessage: (r: CampaignRecord, ctx: BuildContext) => JsonResource,
  ) {}

  /** Gives parents without children yet (new ones) their children, created in (parent created, now]. */
  generate(now: number, rng: Rng): void {
    for (const group of ['lists', 'segments'] as const) {
      for (const parent of this.parents[group].records) {
        if (this.members[group].has(parent.id)) continue;
        const coll = new ChildCollection<Membership>(
          group === 'lists' ? 'list-profiles' : 'segment-profiles',
          'profile',
          membershipSpec(this.profiles, group),
        );
        this.members[group].set(parent.id, coll);
        const size = this.profiles.size();
        const want = Math.min(size, 5 + rng.int(25));
        const chosen = new Set<number>();
        for (let k = 0; k < want * 3 && chosen.size < want; k++) chosen.add(rng.int(size));
        for (const profile of chosen) {
          const from = Math.max(parent.created, this.profiles.created.get(profile));
          if (from > now) continue;
          coll.add({ profile, joinedAt: from + Math.floor(rng.next() * (now - from)) });
        }
      }
    }
    for (const flow of this.parents.flows.records) {
      if (this.actions.has(flow.id)) continue;
      const coll = new ChildCollection<FlowActionRecord>('flow-actions', 'flow-action', flowActionSpec);
      this.actions.set(flow.id, coll);
      const n = 1 + rng.int(5);
      for (let k = 0; k < n; k++) {
        const created = flow.created + k * 60_000;
        const actionType = pick(['SEND_EMAIL', 'SEND_SMS', 'TIME_DELAY'] as const, rng.next());
        const action: FlowActionRecord = {
          id: String(10_000_000 + (this.counter++ * 7919 + (this.seed % 1000)) * 13),
          flowId: flow.id,
          created,
          updated: Math.max(created, Math.min(now, flow.updated)),
          actionType,
          status: flow.status as FlowActionRecord['status'],
        };
        coll.add(action);
        const messages = new ChildCollection<FlowMessageRecord>(
          'flow-messages',
          'flow-message',
          flowMessageSpec,
        );
        this.messages.set(action.id, messages);
        if (actionType === 'TIME_DELAY') continue;
        messages.add({
          id: randomAlnum(this.seed, 700, this.counter, 6),
          actionId: action.id,
          name: `${flow.name} ${actionType === 'SEND_EMAIL' ? 'Email' : 'SMS'} #${k + 1}`,
          channel: actionType === 'SEND_EMAIL' ? 'email' : 'sms',
          created: action.created,
          updated: action.updated,
        });
      }
    }
    for (const campaign of this.parents.campaigns.records) {
      if (this.campaignMessages.has(campaign.id)) continue;
      const coll = new ChildCollection<CampaignRecord>('campaign-messages', 'campaign-message', {
        id: (r) => r.messageId,
        fields: {},
        build: (r, ctx) => this.campaignMessage(r, ctx),
      });
      coll.add(campaign);
      this.campaignMessages.set(campaign.id, coll);
    }
  }

  /** The children of one parent, or undefined when the parent does not exist. */
  collection(endpoint: ChildEndpoint, parentId: string): Collection | undefined {
    switch (endpoint) {
      // The relationships endpoints list the same members, as identifiers only (see isIdentifierEndpoint).
      case 'list-profiles':
      case 'list-profile-ids':
        return this.members.lists.get(parentId);
      case 'segment-profiles':
      case 'segment-profile-ids':
        return this.members.segments.get(parentId);
      case 'flow-actions':
        return this.actions.get(parentId);
      case 'flow-messages':
        return this.messages.get(parentId);
      case 'campaign-messages':
        return this.campaignMessages.get(parentId);
    }
  }

  /** Every parent's memberships as (parent id, profile id, joined_group_at ms). */
  memberships(group: 'lists' | 'segments'): { parentId: string; profileId: string; joinedAt: number }[] {
    const out: { parentId: string; profileId: string; joinedAt: number }[] = [];
    for (const [parentId, coll] of this.members[group])
      for (const m of coll.records)
        out.push({ parentId, profileId: this.profiles.id(m.profile), joinedAt: m.joinedAt });
    return out;
  }

  /** Every flow action (or, per action, message) with its parent's id. */
  flowActions(): FlowActionRecord[] {
    return [...this.actions.values()].flatMap((coll) => coll.records);
  }
  flowMessages(): FlowMessageRecord[] {
    return [...this.messages.values()].flatMap((coll) => coll.records);
  }

  /** The flow each flow message belongs to (through its action). */
  flowOf(message: FlowMessageRecord): string {
    const actions = [...this.actions.values()].flatMap((coll) => coll.records);
    return actions.find((a) => a.id === message.actionId)?.flowId ?? '';
  }

  /**
   * Adds memberships of profiles not yet in the group, joined at `change.joinedAt` (default `now`): a
   * past time makes them late memberships, which only a lookback finds.
   */
  addMemberships(change: MembershipChange, now: number, rng: Rng): void {
    for (const group of ['lists', 'segments'] as const) {
      const colls = [...this.members[group].values()];
      for (let k = 0; k < (change[group] ?? 0) && colls.length > 0; k++) {
        const coll = colls[rng.int(colls.length)] as ChildCollection<Membership>;
        const present = new Set(coll.records.map((m) => m.profile));
        const candidates = Array.from({ length: this.profiles.size() }, (_, i) => i).filter(
          (i) => !present.has(i) && this.profiles.created.get(i) <= (change.joinedAt ?? now),
        );
        if (candidates.length === 0) continue;
        coll.add({
          profile: candidates[rng.int(candidates.length)] as number,
          joinedAt: change.joinedAt ?? now,
        });
      }
    }
  }

  /**
   * Takes `change.lists` / `change.segments` random profiles out of their list or segment (as
   * `DELETE /api/lists/{id}/relationships/profiles` does, or a profile no longer matching a segment).
   */
  removeMemberships(change: { lists?: number; segments?: number }, rng: Rng): RemovedMembership[] {
    const removed: RemovedMembership[] = [];
    for (const group of ['lists', 'segments'] as const) {
      const parents = [...this.members[group]].filter(([, coll]) => coll.size() > 0);
      for (let k = 0; k < (change[group] ?? 0) && parents.length > 0; k++) {
        const [parentId, coll] = parents[rng.int(parents.length)] as [string, ChildCollection<Membership>];
        if (coll.size() === 0) continue;
        const m = coll.removeAt(rng.int(coll.size()));
        removed.push({
          group,
          parentId,
          profileId: this.profiles.id(m.profile),
          profile: m.profile,
          joinedAt: m.joinedAt,
        });
      }
    }
    return removed;
  }

  /** Puts removed memberships back, joined at `joinedAt` (a re-join: now), or at their original time when null. */
  restoreMemberships(removed: readonly RemovedMembership[], joinedAt: number | null): void {
    for (const m of removed) {
      const coll = this.members[m.group].get(m.parentId);
      if (!coll || coll.records.some((r) => r.profile === m.profile)) continue;
      coll.add({ profile: m.profile, joinedAt: joinedAt ?? m.joinedAt });
    }
  }

  /**
   * Moves `updated` of `n` flow actions (and their messages) to a time in (max(old, since), now]: later
   * than anything a run before this change could have read.
   */
  updateFlowActions(n: number, since: number, now: number, rng: Rng): void {
    const all = [...this.actions.values()].filter((coll) => coll.size() > 0);
    for (let k = 0; k < n && all.length > 0; k++) {
      const coll = all[rng.int(all.length)] as ChildCollection<FlowActionRecord>;
      const action = coll.records[rng.int(coll.records.length)] as FlowActionRecord;
      const floor = Math.max(action.updated, since);
      if (floor >= now) continue;
      action.updated = floor + 1 + Math.floor(rng.next() * (now - floor - 1));
      coll.touch();
      const messages = this.messages.get(action.id);
      for (const m of messages?.records ?? []) m.updated = action.updated;
      messages?.touch();
    }
  }

  /** Campaign messages follow their campaign's record: bump their versions after campaigns change. */
  touchCampaigns(): void {
    for (const coll of this.campaignMessages.values()) coll.touch();
  }
}
