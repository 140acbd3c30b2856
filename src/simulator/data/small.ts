import type { CollectionName } from '../../klaviyo/endpoints/index.js';
import type {
  BuildContext,
  Collection,
  FieldDef,
  FieldKind,
  FieldValue,
  JsonResource,
} from './collection.js';
import { relLinks, selfLink } from './collection.js';
import { randomAlnum, ulid } from './ids.js';
import { pick, type Rng } from './random.js';
import { formatKlaviyoTime } from './time-format.js';
import {
  CAMPAIGN_WORDS,
  FLOW_NAMES,
  LIST_WORDS,
  METRIC_DEFS,
  type MetricDef,
  PRODUCTS,
  TRIGGER_TYPES,
} from './vocab.js';

/** A small record kept as a plain object: times in epoch ms, plus whatever its type needs. */
export interface SmallRecord {
  id: string;
  created: number;
  updated: number;
  name: string;
  [key: string]: unknown;
}

interface SmallSpec<R extends SmallRecord> {
  name: CollectionName;
  type: string;
  fields: Record<string, { kind: FieldKind; get: (r: R) => FieldValue }>;
  build: (
    r: R,
    ctx: BuildContext,
  ) => { attributes: Record<string, unknown>; relationships?: Record<string, unknown> };
  included?: (r: R, include: Set<string>, ctx: BuildContext) => JsonResource[];
}

/** Campaigns, lists, templates, metrics, segments, flows: hundreds of records, held as objects. */
export class SmallCollection<R extends SmallRecord> implements Collection {
  readonly naturalFields: ReadonlySet<string> = new Set();
  readonly records: R[] = [];
  private ver = 0;
  private readonly fieldDefs: Record<string, FieldDef> = {};

  constructor(private readonly spec: SmallSpec<R>) {
    for (const [name, def] of Object.entries(spec.fields)) {
      this.fieldDefs[name] = { kind: def.kind, get: (i) => def.get(this.records[i] as R) };
    }
    this.fieldDefs.id ??= { kind: 'string', get: (i) => (this.records[i] as R).id };
  }

  get name(): CollectionName {
    return this.spec.name;
  }
  get type(): string {
    return this.spec.type;
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
  id(i: number): string {
    return (this.records[i] as R).id;
  }
  field(name: string): FieldDef | undefined {
    return this.fieldDefs[name];
  }
  add(record: R): void {
    this.records.push(record);
    this.ver++;
  }
  /** Deletes the records with these ids (the API no longer returns them). */
  removeIds(ids: ReadonlySet<string>): void {
    const kept = this.records.filter((record) => !ids.has(record.id));
    this.records.splice(0, this.records.length, ...kept);
    this.ver++;
  }
  resource(i: number, ctx: BuildContext): JsonResource {
    const r = this.records[i] as R;
    const { attributes, relationships } = this.spec.build(r, ctx);
    const path = this.spec.name;
    return {
      type: this.spec.type,
      id: r.id,
      attributes,
      ...(relationships ? { relationships } : {}),
      links: selfLink(ctx.baseUrl, path, r.id),
    };
  }
  included(i: number, include: Set<string>, ctx: BuildContext): JsonResource[] {
    return this.spec.included ? this.spec.included(this.records[i] as R, include, ctx) : [];
  }
}

function rels(
  ctx: BuildContext,
  path: string,
  id: string,
  names: string[],
  data: Record<string, unknown> = {},
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const rel of names) {
    const d = rel in data ? { data: data[rel] } : ctx.include.has(rel) ? { data: [] } : {};
    out[rel] = { ...d, links: relLinks(ctx.baseUrl, path, id, rel) };
  }
  return out;
}

const t = (ms: number) => formatKlaviyoTime(ms, 'micro');
const tn = (ms: number | null) => (ms === null ? null : formatKlaviyoTime(ms, 'micro'));

// ---------------------------------------------------------------- metrics

export interface MetricRecord extends SmallRecord {
  def: MetricDef;
}

export class MetricsCollection extends SmallCollection<MetricRecord> {
  constructor() {
    super({
      name: 'metrics',
      type: 'metric',
      fields: {
        'integration.name': { kind: 'string', get: (r) => r.def.integration.name },
        'integration.category': { kind: 'string', get: (r) => r.def.integration.category },
      },
      build: (r, ctx) => ({
        attributes: {
          name: r.name,
          created: t(r.created),
          updated: t(r.updated),
          integration: { object: 'integration', ...r.def.integration },
        },
        relationships: rels(ctx, 'metrics', r.id, ['flow-triggers']),
      }),
    });
  }
  def(i: number): MetricDef {
    return (this.records[i] as MetricRecord).def;
  }
  /** Cumulative weights, for picking a metric per event. */
  weights(): number[] {
    let sum = 0;
    return this.records.map((r) => {
      sum += r.def.weight;
      return sum;
    });
  }
}

export function generateMetrics(
  coll: MetricsCollection,
  count: number,
  from: number,
  seed: number,
  rng: Rng,
): void {
  const used = new Set<string>();
  for (let k = 0; k < count; k++) {
    const base = METRIC_DEFS[k % METRIC_DEFS.length] as MetricDef;
    const def =
      k < METRIC_DEFS.length
        ? base
        : { ...base, name: `${base.name} ${Math.floor(k / METRIC_DEFS.length) + 1}` };
    let id = randomAlnum(seed, 100, k, 6);
    while (used.has(id)) id = randomAlnum(seed, 101, k + used.size * 7919, 6);
    used.add(id);
    const created = from - Math.floor(rng.next() * 400) * 86_400_000 - Math.floor(rng.next() * 86_400) * 1000;
    coll.add({ id, name: def.name, created, updated: created, def });
  }
}

// ---------------------------------------------------------------- campaigns

export type Channel = 'email' | 'sms' | 'mobile_push';

export interface CampaignRecord extends SmallRecord {
  channel: Channel;
  status: string;
  archived: boolean;
  scheduled: number | null;
  sendTime: number | null;
  messageId: string;
  audiences: { included: string[]; excluded: string[] };
  smart: boolean;
}

export function campaignsCollection(): SmallCollection<CampaignRecord> {
  return new SmallCollection<CampaignRecord>({
    name: 'campaigns',
    type: 'campaign',
    fields: {
      'messages.channel': { kind: 'string', get: (r) => r.channel },
      name: { kind: 'string', get: (r) => r.name },
      status: { kind: 'string', get: (r) => r.status },
      archived: { kind: 'boolean', get: (r) => r.archived },
      created_at: { kind: 'datetime', get: (r) => r.created },
      updated_at: { kind: 'datetime', get: (r) => r.updated },
      scheduled_at: { kind: 'datetime', get: (r) => r.scheduled },
    },
    build: (r, ctx) => {
      const old = ctx.revision.date < '2023-07-15';
      const attributes: Record<string, unknown> = {
        name: r.name,
        status: r.status,
        archived: r.archived,
        ...(old ? { channel: r.channel, message: r.messageId } : {}),
        audiences: r.audiences,
        send_options: { use_smart_sending: r.smart },
        tracking_options:
          r.channel === 'email'
            ? {
                add_tracking_params: false,
                custom_tracking_params: null,
                is_tracking_clicks: true,
                is_tracking_opens: true,
              }
            : { add_tracking_params: false, custom_tracking_params: null },
        send_strategy:
          r.scheduled === null
            ? { method: 'immediate' }
            : { method: 'static', datetime: t(r.scheduled), options: null },
        created_at: t(r.created),
        scheduled_at: tn(r.scheduled),
        updated_at: t(r.updated),
        send_time: tn(r.sendTime),
      };
      return {
        attributes,
        relationships: rels(ctx, 'campaigns', r.id, ['campaign-messages', 'tags'], {
          'campaign-messages': [{ type: 'campaign-message', id: r.messageId }],
        }),
      };
    },
    included: (r, include, ctx) =>
      include.has('campaign-messages') ? [campaignMessageResource(r, ctx)] : [],
  });
}

/** A campaign's message, as `include=campaign-messages` and `/api/campaigns/{id}/campaign-messages` serve it. */
export function campaignMessageResource(r: CampaignRecord, ctx: BuildContext): JsonResource {
  const content =
    r.channel === 'email'
      ? {
          subject: `${r.name} — just for you`,
          preview_text: 'Open to see more',
          from_email: 'hello@example.com',
          from_label: 'Example Store',
          reply_to_email: null,
          cc_email: null,
          bcc_email: null,
        }
      : r.channel === 'sms'
        ? { body: `${r.name}: shop now https://example.com`, media_url: null }
        : { title: r.name, body: 'Tap to shop', dynamic_image: null };
  return {
    type: 'campaign-message',
    id: r.messageId,
    attributes: {
      definition:
        r.channel === 'email'
          ? { channel: r.channel, label: r.name, content }
          : r.channel === 'mobile_push'
            ? { channel: r.channel, notification_type: 'standard', content }
            : { channel: r.channel, content },
      send_times: r.sendTime === null ? [] : [{ datetime: t(r.sendTime), is_local: false }],
      created_at: t(r.created),
      updated_at: t(r.updated),
    },
    relationships: rels(ctx, 'campaign-messages', r.messageId, ['campaign', 'template', 'image']),
    links: selfLink(ctx.baseUrl, 'campaign-messages', r.messageId),
  };
}

const CAMPAIGN_STATUSES = ['Sent', 'Sent', 'Sent', 'Draft', 'Scheduled', 'Cancelled', 'Sending'];

export function generateCampaign(
  k: number,
  created: number,
  now: number,
  seed: number,
  rng: Rng,
): CampaignRecord {
  const r = rng.next();
  const channel: Channel = r < 0.6 ? 'email' : r < 0.9 ? 'sms' : 'mobile_push';
  const status = pick(CAMPAIGN_STATUSES, rng.next());
  const scheduled =
    status === 'Draft' ? null : Math.min(now, created + Math.floor(rng.next() * 3 * 86_400_000));
  const updated = Math.min(
    now,
    Math.max(created, (scheduled ?? created) + Math.floor(rng.next() * 3_600_000)),
  );
  return {
    id: ulid(created, seed, 200, k),
    name: `${pick(CAMPAIGN_WORDS, rng.next())} ${new Date(created).toISOString().slice(0, 10)}`,
    created,
    updated,
    channel,
    status,
    archived: rng.next() < 0.15,
    scheduled,
    sendTime: status === 'Sent' || status === 'Sending' ? scheduled : null,
    messageId: ulid(created + 1, seed, 201, k),
    audiences: {
      included: [randomAlnum(seed, 202, k, 6)],
      excluded: rng.next() < 0.3 ? [randomAlnum(seed, 203, k, 6)] : [],
    },
    smart: rng.next() < 0.7,
  };
}

// ---------------------------------------------------------------- lists, segments

export interface ListRecord extends SmallRecord {
  optIn: 'double_opt_in' | 'single_opt_in';
}

export function listsCollection(): SmallCollection<ListRecord> {
  return new SmallCollection<ListRecord>({
    name: 'lists',
    type: 'list',
    fields: {
      name: { kind: 'string', get: (r) => r.name },
      created: { kind: 'datetime', get: (r) => r.created },
      updated: { kind: 'datetime', get: (r) => r.updated },
    },
    build: (r, ctx) => ({
      attributes: { name: r.name, created: t(r.created), updated: t(r.updated), opt_in_process: r.optIn },
      relationships: rels(ctx, 'lists', r.id, ['profiles', 'tags', 'flow-triggers']),
    }),
  });
}

export function generateList(
  k: number,
  created: number,
  updated: number,
  seed: number,
  rng: Rng,
): ListRecord {
  return {
    id: randomAlnum(seed, 300, k, 6),
    name: k < LIST_WORDS.length ? (LIST_WORDS[k] as string) : `${pick(LIST_WORDS, rng.next())} ${k}`,
    created,
    updated,
    optIn: rng.next() < 0.5 ? 'double_opt_in' : 'single_opt_in',
  };
}

export interface SegmentRecord extends SmallRecord {
  active: boolean;
  starred: boolean;
  days: number;
}

export function segmentsCollection(): SmallCollection<SegmentRecord> {
  return new SmallCollection<SegmentRecord>({
    name: 'segments',
    type: 'segment',
    fields: {
      name: { kind: 'string', get: (r) => r.name },
      created: { kind: 'datetime', get: (r) => r.created },
      updated: { kind: 'datetime', get: (r) => r.updated },
      is_active: { kind: 'boolean', get: (r) => r.active },
      is_starred: { kind: 'boolean', get: (r) => r.starred },
    },
    build: (r, ctx) => ({
      attributes: {
        name: r.name,
        definition: {
          condition_groups: [
            {
              conditions: [
                {
                  type: 'profile-metric',
                  metric_id: 'placeholder',
                  measurement: 'count',
                  measurement_filter: { type: 'numeric', operator: 'greater-than', value: 0 },
                  timeframe_filter: { type: 'date', operator: 'in-the-last', quantity: r.days, unit: 'day' },
                  metric_filters: null,
                },
              ],
            },
          ],
        },
        created: t(r.created),
        updated: t(r.updated),
        is_active: r.active,
        is_processing: false,
        is_starred: r.starred,
      },
      relationships: rels(ctx, 'segments', r.id, ['profiles', 'tags', 'flow-triggers']),
    }),
  });
}

export function generateSegment(
  k: number,
  created: number,
  updated: number,
  seed: number,
  rng: Rng,
): SegmentRecord {
  const days = pick([7, 30, 90, 180, 365], rng.next());
  return {
    id: randomAlnum(seed, 400, k, 6),
    name: `${pick(['Engaged', 'Purchased', 'Browsed', 'VIP', 'Inaktive Kunden'], rng.next())} (${days} days)`,
    created,
    updated,
    active: rng.next() < 0.85,
    starred: rng.next() < 0.2,
    days,
  };
}

// ---------------------------------------------------------------- templates

export interface TemplateRecord extends SmallRecord {
  editor: string;
}

export function templatesCollection(): SmallCollection<TemplateRecord> {
  return new SmallCollection<TemplateRecord>({
    name: 'templates',
    type: 'template',
    fields: {
      name: { kind: 'string', get: (r) => r.name },
      created: { kind: 'datetime', get: (r) => r.created },
      updated: { kind: 'datetime', get: (r) => r.updated },
    },
    build: (r, ctx) => {
      const product = PRODUCTS[r.name.length % PRODUCTS.length];
      const html = `<!DOCTYPE html>\n<html xmlns="http://www.w3.org/1999/xhtml">\n<head>\n<meta content="text/html; charset=utf-8" http-equiv="Content-Type"/>\n<title>${r.name}</title>\n<style>a:link {color:#625eff;text-decoration:underline}</style>\n</head>\n<body>\n<table role="presentation" width="100%"><tr><td>\n<h1>Hello {{ first_name|default:"there" }} 👋</h1>\n<p>Check out our ${product?.name ?? 'products'} — now ${product?.price ?? 0} €.</p>\n<a href="{% unsubscribe_link %}">Unsubscribe</a>\n</td></tr></table>\n</body>\n</html>\n`;
      const attributes: Record<string, unknown> = {
        name: r.name,
        editor_type: r.editor,
        html,
        text: r.editor === 'CODE' ? null : `Hello! Check out our ${product?.name ?? 'products'}.`,
        amp: null,
        created: t(r.created),
        updated: t(r.updated),
      };
      // The drag-and-drop definition tree is not simulated; asked-for definitions come back null.
      if (ctx.additional.has('definition')) attributes.definition = null;
      return { attributes };
    },
  });
}

export function generateTemplate(
  k: number,
  created: number,
  updated: number,
  seed: number,
  rng: Rng,
): TemplateRecord {
  return {
    id: randomAlnum(seed, 500, k, 6),
    name: `${pick(['Newsletter', 'Promo', 'Welcome', 'Receipt', 'Réduction'], rng.next())} #${k + 1}`,
    created,
    updated,
    editor: pick(['SYSTEM_DRAGGABLE', 'CODE', 'USER_DRAGGABLE'], rng.next()),
  };
}

// ---------------------------------------------------------------- flows

export interface FlowRecord extends SmallRecord {
  status: string;
  archived: boolean;
  trigger: string;
}

export function flowsCollection(): SmallCollection<FlowRecord> {
  return new SmallCollection<FlowRecord>({
    name: 'flows',
    type: 'flow',
    fields: {
      name: { kind: 'string', get: (r) => r.name },
      status: { kind: 'string', get: (r) => r.status },
      archived: { kind: 'boolean', get: (r) => r.archived },
      trigger_type: { kind: 'string', get: (r) => r.trigger },
      created: { kind: 'datetime', get: (r) => r.created },
      updated: { kind: 'datetime', get: (r) => r.updated },
    },
    build: (r, ctx) => ({
      attributes: {
        name: r.name,
        status: r.status,
        archived: r.archived,
        created: t(r.created),
        updated: t(r.updated),
        trigger_type: r.trigger,
      },
      relationships: rels(ctx, 'flows', r.id, ['flow-actions', 'tags']),
    }),
  });
}

export function generateFlow(
  k: number,
  created: number,
  updated: number,
  seed: number,
  rng: Rng,
): FlowRecord {
  return {
    id: randomAlnum(seed, 600, k, 6),
    name: k < FLOW_NAMES.length ? (FLOW_NAMES[k] as string) : `${pick(FLOW_NAMES, rng.next())} ${k}`,
    created,
    updated,
    status: pick(['live', 'live', 'draft', 'manual'], rng.next()),
    archived: rng.next() < 0.1,
    trigger: pick(TRIGGER_TYPES, rng.next()),
  };
}
