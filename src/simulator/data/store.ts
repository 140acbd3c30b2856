import type { CollectionName } from '../../klaviyo/endpoints/index.js';
import {
  ACCOUNT_OBJECT_NAMES,
  type AccountObjectName,
  AccountObjects,
  pickIndices,
} from './account-objects.js';
import { ChildData, type ChildEndpoint, type MembershipChange, type RemovedMembership } from './children.js';
import type { Collection, FieldValue } from './collection.js';
import { EventsCollection } from './events.js';
import { FlowSeriesData } from './flow-series.js';
import { ProfilesCollection } from './profiles.js';
import { Rng } from './random.js';
import {
  type CampaignRecord,
  campaignMessageResource,
  campaignsCollection,
  flowsCollection,
  generateCampaign,
  generateFlow,
  generateList,
  generateMetrics,
  generateSegment,
  generateTemplate,
  listsCollection,
  MetricsCollection,
  type SmallCollection,
  type SmallRecord,
  segmentsCollection,
  templatesCollection,
} from './small.js';

export interface DataOptions {
  seed?: number;
  /** Reference "now" in epoch ms (default: Date.now() at start). Data is generated up to it. */
  now?: number;
  /** Start of the generated time range (default 2025-08-01T00:00:00Z). */
  start?: number;
  profiles?: number;
  events?: number;
  campaigns?: number;
  lists?: number;
  templates?: number;
  metrics?: number;
  segments?: number;
  flows?: number;
  tags?: number;
  'tag-groups'?: number;
  coupons?: number;
  /** Coupon codes, each of a random coupon. */
  'coupon-codes'?: number;
  forms?: number;
  images?: number;
  'catalog-items'?: number;
  'catalog-variants'?: number;
  'catalog-categories'?: number;
  'push-tokens'?: number;
  /** Write event `datetime` with a space separator (`2021-05-17 23:43:28+00:00`). Default 'T'. */
  eventDatetimeSeparator?: 'T' | ' ';
}

export type RecordCounts = Partial<Record<CollectionName, number>>;

/** The collections `deleteRecords` deletes from. */
export type DeletableName = 'campaigns' | 'lists' | 'templates' | 'segments' | 'flows' | AccountObjectName;

export const DEFAULT_COUNTS: Record<CollectionName, number> = {
  profiles: 500,
  events: 5000,
  campaigns: 40,
  lists: 12,
  templates: 15,
  metrics: 14,
  segments: 10,
  flows: 12,
  'tag-groups': 3,
  tags: 12,
  coupons: 6,
  'coupon-codes': 40,
  forms: 8,
  images: 30,
  'catalog-categories': 5,
  'catalog-items': 40,
  'catalog-variants': 90,
  'push-tokens': 25,
};

/** Which events to hold back from the list endpoint (`holdBackEvents`). */
export interface HoldBackSpec {
  /** Events with datetime in [from, to), epoch ms. */
  from: number;
  to: number;
  /** Only this metric's events. */
  metricId?: string;
  /** At most this many (the first ones in datetime order). */
  limit?: number;
}

/** Range condition for `count()`; datetimes in epoch ms (or numbers for `timestamp`). */
export interface WindowSpec {
  field: string;
  gt?: number;
  gte?: number;
  lt?: number;
  lte?: number;
}

/** Everything the simulator holds, plus the simulated clock and the mutation API. */
export class SimulatorData {
  readonly seed: number;
  private nowMs: number;
  /** Time up to which records have been generated. */
  private generatedUpTo: number;
  private mutations = 0;
  readonly metrics: MetricsCollection;
  readonly profiles: ProfilesCollection;
  readonly events: EventsCollection;
  readonly campaigns: SmallCollection<CampaignRecord>;
  readonly lists = listsCollection();
  readonly templates = templatesCollection();
  readonly segments = segmentsCollection();
  readonly flows = flowsCollection();
  /** Tags, tag groups, coupons, forms, images, catalog items / variants / categories, push tokens. */
  readonly objects: AccountObjects;
  /** What each list, segment, flow, flow action and campaign holds (served per parent). */
  readonly children: ChildData;
  /** The numbers flow series reports give per flow message and day. */
  readonly flowSeries: FlowSeriesData;
  /** The numbers campaign values reports sum per campaign message over a timeframe's days. */
  readonly campaignValues: FlowSeriesData;

  constructor(options: DataOptions = {}) {
    this.seed = (options.seed ?? 1) >>> 0;
    this.nowMs = options.now ?? Date.now();
    const start = options.start ?? Date.UTC(2025, 7, 1);
    const counts = { ...DEFAULT_COUNTS };
    for (const key of Object.keys(counts) as CollectionName[]) {
      const v = options[key];
      if (typeof v === 'number') counts[key] = Math.max(0, Math.floor(v));
    }
    counts.metrics = Math.max(1, counts.metrics);
    counts.profiles = Math.max(1, counts.profiles);
    this.metrics = new MetricsCollection();
    this.profiles = new ProfilesCollection(this.seed);
    this.events = new EventsCollection(
      this.seed,
      this.metrics,
      this.profiles,
      options.eventDatetimeSeparator ?? 'T',
    );
    this.campaigns = campaignsCollection();
    const rng = new Rng(this.seed ^ 0x5eed);
    generateMetrics(this.metrics, counts.metrics, start, this.seed, rng);
    this.profiles.generate(counts.profiles, start - 1, this.nowMs, rng);
    this.events.generate(counts.events, start - 1, this.nowMs, rng);
    this.generateSmall(counts, start, this.nowMs, rng);
    this.objects = new AccountObjects(this.seed, this.profiles);
    this.objects.generate(counts, start, this.nowMs, rng);
    this.children = new ChildData(
      this.seed,
      this.profiles,
      { lists: this.lists, segments: this.segments, flows: this.flows, campaigns: this.campaigns },
      campaignMessageResource,
    );
    this.children.generate(this.nowMs, new Rng(this.seed ^ 0xc41d));
    this.flowSeries = new FlowSeriesData(this.seed);
    this.campaignValues = new FlowSeriesData(this.seed ^ 0xca4a);
    this.generatedUpTo = this.nowMs;
  }

  /** The children of one parent (`list-profiles` of a list id …); undefined for an unknown parent. */
  childCollection(endpoint: ChildEndpoint, parentId: string): Collection | undefined {
    return this.children.collection(endpoint, parentId);
  }

  /**
   * Adds memberships to random lists / segments, joined at `change.joinedAt` (default now): a time
   * before the last run makes them late memberships. The clock does not move.
   */
  addMemberships(change: MembershipChange): void {
    this.children.addMemberships(change, this.nowMs, new Rng(this.seed ^ (0x3000 + ++this.mutations)));
  }

  /** Takes random profiles out of their lists / segments; returns them, to restore them later. */
  removeMemberships(change: { lists?: number; segments?: number }): RemovedMembership[] {
    return this.children.removeMemberships(change, new Rng(this.seed ^ (0x5000 + ++this.mutations)));
  }

  /** Puts removed memberships back: re-joined now (default) or at their original `joined_group_at` (`original`). */
  restoreMemberships(removed: readonly RemovedMembership[], at: 'now' | 'original' = 'now'): void {
    this.children.restoreMemberships(removed, at === 'now' ? this.nowMs : null);
  }

  /** Moves `updated` of `n` flow actions (and their flow messages) to a later time up to now. */
  updateFlowActions(n: number): void {
    if (this.nowMs <= this.generatedUpTo) this.nowMs = this.generatedUpTo + 1000;
    const rng = new Rng(this.seed ^ (0x4000 + ++this.mutations));
    this.children.updateFlowActions(n, this.generatedUpTo, this.nowMs, rng);
    this.generatedUpTo = this.nowMs;
  }

  now(): number {
    return this.nowMs;
  }

  collection(name: CollectionName): Collection {
    if (isAccountObject(name)) return this.objects.collection(name);
    return this[name] as Collection;
  }

  /** Moves the simulated clock forward. */
  advanceTime(ms: number): number {
    this.nowMs += Math.max(0, ms);
    return this.nowMs;
  }

  /**
   * Adds records created in (last generation time, now]. When the clock has not moved since the last
   * generation it is advanced by one second first, so new records are always strictly newer.
   */
  addRecords(counts: RecordCounts): void {
    if (this.nowMs <= this.generatedUpTo) this.nowMs = this.generatedUpTo + 1000;
    const from = this.generatedUpTo;
    const rng = new Rng(this.seed ^ (0x1000 + ++this.mutations));
    if (counts.metrics)
      generateMetrics(this.metrics, counts.metrics, from, this.seed + this.mutations * 7, rng);
    if (counts.profiles) this.profiles.generate(counts.profiles, from, this.nowMs, rng);
    if (counts.events) this.events.generate(counts.events, from, this.nowMs, rng);
    this.generateSmall(
      {
        campaigns: counts.campaigns ?? 0,
        lists: counts.lists ?? 0,
        templates: counts.templates ?? 0,
        segments: counts.segments ?? 0,
        flows: counts.flows ?? 0,
      },
      from + 1,
      this.nowMs,
      rng,
    );
    this.objects.generate(counts, from + 1, this.nowMs, rng);
    this.children.generate(this.nowMs, rng);
    this.generatedUpTo = this.nowMs;
  }

  /**
   * Touches `N` existing records per type: their `updated` (`updated_at`) moves to a time in
   * (max(old, last generation), now], always later than before. Events are immutable and ignored.
   */
  updateRecords(counts: RecordCounts): void {
    if (this.nowMs <= this.generatedUpTo) this.nowMs = this.generatedUpTo + 1000;
    const rng = new Rng(this.seed ^ (0x2000 + ++this.mutations));
    const newTime = (old: number) => {
      const floor = Math.max(old, this.generatedUpTo);
      return Math.min(this.nowMs, floor + 1 + Math.floor(rng.next() * Math.max(0, this.nowMs - floor - 1)));
    };
    if (counts.profiles) {
      for (const i of pickIndices(this.profiles.size(), counts.profiles, rng)) {
        this.profiles.updated.set(i, newTime(this.profiles.updated.get(i)));
      }
      this.profiles.touch();
    }
    for (const name of ['campaigns', 'lists', 'templates', 'segments', 'flows', 'metrics'] as const) {
      const n = counts[name];
      if (!n) continue;
      const coll = this[name] as unknown as SmallCollection<SmallRecord>;
      for (const i of pickIndices(coll.size(), n, rng)) {
        const rec = coll.records[i] as SmallRecord;
        rec.updated = newTime(rec.updated);
      }
      coll.touch();
    }
    for (const name of ACCOUNT_OBJECT_NAMES) {
      const n = counts[name];
      if (n) this.objects.update(name, n, newTime, rng);
    }
    if (counts.campaigns) this.children.touchCampaigns();
    this.generatedUpTo = this.nowMs;
  }

  /**
   * Klaviyo's late listing: the events `spec` selects keep counting in metric-aggregates but are left
   * out of GET /api/events until `releaseEvents`. Returns their ids.
   */
  holdBackEvents(spec: HoldBackSpec): string[] {
    const events = this.events;
    const chosen: number[] = [];
    const limit = spec.limit ?? Number.POSITIVE_INFINITY;
    for (let i = events.times.upperBound(spec.from - 1); i < events.size() && chosen.length < limit; i++) {
      const t = events.times.get(i);
      if (t < spec.from) continue;
      if (t >= spec.to) break;
      if (spec.metricId !== undefined && this.metrics.id(events.metric.get(i)) !== spec.metricId) continue;
      chosen.push(i);
    }
    events.holdBack(chosen);
    return chosen.map((i) => events.id(i));
  }

  /** Lists every held-back event again; returns how many were released. */
  releaseEvents(): number {
    return this.events.releaseAll();
  }

  /**
   * Deletes `N` records per type of the objects Klaviyo lets an account delete (campaigns, lists,
   * templates, segments, flows and the smaller objects; not events, profiles or metrics here): later
   * reads no longer return them. Returns the ids deleted.
   */
  deleteRecords(counts: Partial<Record<DeletableName, number>>): Partial<Record<DeletableName, string[]>> {
    const rng = new Rng(this.seed ^ (0x3000 + ++this.mutations));
    const deleted: Partial<Record<DeletableName, string[]>> = {};
    for (const name of ['campaigns', 'lists', 'templates', 'segments', 'flows'] as const) {
      const n = counts[name];
      if (!n) continue;
      const coll = this[name] as unknown as SmallCollection<SmallRecord>;
      const ids = pickIndices(coll.size(), n, rng).map((i) => coll.id(i));
      coll.removeIds(new Set(ids));
      deleted[name] = ids;
    }
    for (const name of ACCOUNT_OBJECT_NAMES) {
      const n = counts[name];
      if (n) deleted[name] = this.objects.delete(name, n, rng);
    }
    return deleted;
  }

  /**
   * Sets (a time) or lifts (null) the email marketing suppression of `N` profiles that are not (or
   * are) suppressed now; their `updated` moves to now. Returns the profiles' ids.
   */
  setSuppression(count: number, suppressed: boolean): string[] {
    if (this.nowMs <= this.generatedUpTo) this.nowMs = this.generatedUpTo + 1000;
    const field = this.profiles.field('subscriptions.email.marketing.suppression.timestamp');
    const candidates: number[] = [];
    for (let i = 0; i < this.profiles.size(); i++) {
      if ((field?.get(i) !== null) !== suppressed) candidates.push(i);
    }
    const rng = new Rng(this.seed ^ (0x4000 + ++this.mutations));
    const chosen = pickIndices(candidates.length, count, rng).map((k) => candidates[k] as number);
    for (const i of chosen) {
      this.profiles.setSuppression(i, suppressed ? this.nowMs : null);
      this.profiles.updated.set(i, this.nowMs);
    }
    this.profiles.touch();
    this.generatedUpTo = this.nowMs;
    return chosen.map((i) => this.profiles.id(i));
  }

  /** How many records of a type have `field` inside the window (all records when no bound given). */
  count(source: CollectionName, window?: WindowSpec): number {
    const coll = this.collection(source);
    if (!window) return coll.size();
    const def = coll.field(window.field);
    if (!def) throw new Error(`${source} has no field '${window.field}'`);
    let n = 0;
    for (let i = 0; i < coll.size(); i++) {
      if (inWindow(def.get(i), window)) n++;
    }
    return n;
  }

  /** Ids of records matching `predicate` (called with the field getter), in index order. */
  ids(
    source: CollectionName,
    predicate: (get: (field: string) => FieldValue, index: number) => boolean = () => true,
  ): string[] {
    const coll = this.collection(source);
    const out: string[] = [];
    for (let i = 0; i < coll.size(); i++) {
      const get = (field: string) => coll.field(field)?.get(i) ?? null;
      if (predicate(get, i)) out.push(coll.id(i));
    }
    return out;
  }

  private generateSmall(counts: RecordCounts, from: number, to: number, rng: Rng): void {
    const span = Math.max(1, to - from);
    const times = (n: number) =>
      Array.from({ length: n }, () => {
        const c = from + Math.floor(rng.next() * span);
        const created = rng.next() < 0.5 ? Math.max(from, Math.floor(c / 1000) * 1000) : c;
        const updated = rng.next() < 0.3 ? created : created + Math.floor(rng.next() * (to - created));
        return [created, Math.min(to, updated)] as const;
      }).sort((a, b) => a[0] - b[0]);
    const add = <R extends SmallRecord>(
      coll: SmallCollection<R>,
      n: number | undefined,
      make: (k: number, c: number, u: number) => R,
    ) => {
      for (const [c, u] of times(n ?? 0)) coll.add(make(coll.size() + this.mutations * 100000, c, u));
    };
    add(this.campaigns, counts.campaigns, (k, c) => generateCampaign(k, c, to, this.seed, rng));
    add(this.lists, counts.lists, (k, c, u) => generateList(k, c, u, this.seed, rng));
    add(this.templates, counts.templates, (k, c, u) => generateTemplate(k, c, u, this.seed, rng));
    add(this.segments, counts.segments, (k, c, u) => generateSegment(k, c, u, this.seed, rng));
    add(this.flows, counts.flows, (k, c, u) => generateFlow(k, c, u, this.seed, rng));
  }
}

function isAccountObject(name: CollectionName): name is AccountObjectName {
  return (ACCOUNT_OBJECT_NAMES as readonly string[]).includes(name);
}

function inWindow(v: FieldValue, w: WindowSpec): boolean {
  if (typeof v !== 'number') return false;
  if (w.gt !== undefined && !(v > w.gt)) return false;
  if (w.gte !== undefined && !(v >= w.gte)) return false;
  if (w.lt !== undefined && !(v < w.lt)) return false;
  if (w.lte !== undefined && !(v <= w.lte)) return false;
  return true;
}
