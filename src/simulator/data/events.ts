import { isBefore } from '../../klaviyo/endpoints/index.js';
import type { BuildContext, Collection, FieldDef, JsonResource } from './collection.js';
import { relLinks, selfLink } from './collection.js';
import { f64, u16, u32 } from './growable.js';
import { eventId, randomAlnum, timeUuid } from './ids.js';
import type { ProfilesCollection } from './profiles.js';
import { pick, type Rng, rand } from './random.js';
import type { MetricsCollection } from './small.js';
import { formatKlaviyoTime } from './time-format.js';
import { PRODUCTS } from './vocab.js';

/**
 * Events: kept as three compact columns (epoch ms sorted ascending, metric index, profile index).
 * Index order = (datetime, id) order, so a datetime filter is a binary search and nothing else is stored.
 */
export class EventsCollection implements Collection {
  readonly name = 'events' as const;
  readonly type = 'event';
  readonly naturalFields: ReadonlySet<string> = new Set(['datetime', 'timestamp', 'id']);
  readonly times = f64(1024);
  readonly metric = u16(1024);
  readonly profile = u32(1024);
  private ver = 0;
  private readonly fields: Record<string, FieldDef>;
  /** Events Klaviyo already counts (metric-aggregates) but does not list yet: its late listing. */
  private readonly unlisted = new Set<number>();

  constructor(
    private readonly seed: number,
    private readonly metrics: MetricsCollection,
    private readonly profiles: ProfilesCollection,
    /** `' '` writes `2021-05-17 23:43:28+00:00` as seen in older real responses. */
    private readonly separator: 'T' | ' ' = 'T',
  ) {
    this.fields = {
      datetime: { kind: 'datetime', get: (i) => this.times.get(i) },
      timestamp: { kind: 'number', get: (i) => Math.floor(this.times.get(i) / 1000) },
      id: { kind: 'string', get: (i) => this.id(i) },
      metric_id: { kind: 'string', get: (i) => this.metrics.id(this.metric.get(i)) },
      profile_id: { kind: 'string', get: (i) => this.profiles.id(this.profile.get(i)) },
      profile: { kind: 'relation', get: () => true },
      metric: { kind: 'relation', get: () => true },
    };
  }

  size(): number {
    return this.times.length;
  }
  version(): number {
    return this.ver;
  }
  id(i: number): string {
    return eventId(i, this.seed);
  }
  field(name: string): FieldDef | undefined {
    return this.fields[name];
  }

  /** Keeps these events out of GET /api/events (they still count in metric-aggregates) until released. */
  holdBack(indices: Iterable<number>): void {
    for (const i of indices) this.unlisted.add(i);
  }

  /** Lists every held-back event again; returns how many there were. */
  releaseAll(): number {
    const n = this.unlisted.size;
    this.unlisted.clear();
    return n;
  }

  /** Events held back from the list endpoint now. */
  heldBack(): number {
    return this.unlisted.size;
  }

  /** The list endpoint's test for held-back events; null while none is held back. */
  listedFilter(): ((i: number) => boolean) | null {
    if (this.unlisted.size === 0) return null;
    return (i) => !this.unlisted.has(i);
  }

  /** Appends `count` events with times in (from, to], sorted, with exact ties and same-second neighbours. */
  generate(count: number, from: number, to: number, rng: Rng): void {
    if (count <= 0) return;
    const last = this.times.length ? this.times.get(this.times.length - 1) : Number.NEGATIVE_INFINITY;
    const start = Math.floor(Math.max(from, last === Number.NEGATIVE_INFINITY ? from : Math.min(last, to)));
    const end = Math.max(start + 1, Math.floor(to));
    const gaps = new Float64Array(count);
    let total = 0;
    for (let k = 0; k < count; k++) {
      const r = rng.next();
      // 8% exact ties, 15% sub-second neighbours, the rest exponential gaps.
      const g = r < 0.08 ? 0 : r < 0.23 ? rng.next() * 0.001 : -Math.log(1 - rng.next());
      gaps[k] = g;
      total += g;
    }
    const scale = total > 0 ? (end - start - 1) / total : 0;
    let t = start + 1;
    let prev = Math.max(start + 1, last === Number.NEGATIVE_INFINITY ? start + 1 : last);
    const metricCum = this.metrics.weights();
    const metricTotal = metricCum[metricCum.length - 1] ?? 1;
    for (let k = 0; k < count; k++) {
      t += (gaps[k] as number) * scale;
      let ms = Math.floor(t);
      // Most events are whole seconds; some keep milliseconds.
      if (rng.next() < 0.7) ms = Math.floor(ms / 1000) * 1000;
      ms = Math.min(Math.max(ms, prev, start + 1), end);
      prev = ms;
      this.times.push(ms);
      const rm = rng.next() * metricTotal;
      let m = 0;
      while (m < metricCum.length - 1 && (metricCum[m] as number) <= rm) m++;
      this.metric.push(m);
      const known = Math.max(1, this.profiles.countCreatedBy(ms));
      this.profile.push(Math.min(this.profiles.size() - 1, Math.floor(rng.next() * known)));
    }
    this.ver++;
  }

  resource(i: number, ctx: BuildContext): JsonResource {
    const ms = this.times.get(i);
    const id = this.id(i);
    const metricId = this.metrics.id(this.metric.get(i));
    const profileId = this.profiles.id(this.profile.get(i));
    const old = isBefore(ctx.revision, '2023-07-15');
    const attributes: Record<string, unknown> = {};
    if (old) {
      attributes.metric_id = metricId;
      attributes.profile_id = profileId;
    }
    attributes.timestamp = old ? String(Math.floor(ms / 1000)) : Math.floor(ms / 1000);
    attributes.event_properties = this.properties(i, ms);
    attributes.datetime = formatKlaviyoTime(ms, this.separator === ' ' ? 'space' : 'micro');
    attributes.uuid = timeUuid(ms, this.seed, i);
    const base = ctx.baseUrl;
    const relationships: Record<string, unknown> = old
      ? {
          profiles: {
            data: [{ type: 'profile', id: profileId }],
            links: relLinks(base, 'events', id, 'profiles'),
          },
          metrics: {
            data: [{ type: 'metric', id: metricId }],
            links: relLinks(base, 'events', id, 'metrics'),
          },
        }
      : {
          profile: {
            data: { type: 'profile', id: profileId },
            links: relLinks(base, 'events', id, 'profile'),
          },
          metric: { data: { type: 'metric', id: metricId }, links: relLinks(base, 'events', id, 'metric') },
          ...(isBefore(ctx.revision, '2024-02-15')
            ? {}
            : {
                attributions: {
                  ...(ctx.include.has('attributions') ? { data: [] } : {}),
                  links: relLinks(base, 'events', id, 'attributions'),
                },
              }),
        };
    return { type: 'event', id, attributes, relationships, links: selfLink(base, 'events', id) };
  }

  included(i: number, include: Set<string>, ctx: BuildContext): JsonResource[] {
    const out: JsonResource[] = [];
    if (include.has('metric') || include.has('metrics'))
      out.push(this.metrics.resource(this.metric.get(i), ctx));
    if (include.has('profile') || include.has('profiles'))
      out.push(this.profiles.resource(this.profile.get(i), { ...ctx, additional: new Set() }));
    return out;
  }

  /** `$value` as a number for sums (metric-aggregates uses the same value). */
  value(i: number): number {
    const def = this.metrics.def(this.metric.get(i));
    if (def.kind !== 'order' && def.kind !== 'product') return 0;
    const product = pick(PRODUCTS, rand(this.seed, 11, i));
    const qty = 1 + Math.floor(rand(this.seed, 12, i) * 3);
    return Math.round(product.price * (def.kind === 'order' ? qty : 1) * 100) / 100;
  }

  private properties(i: number, ms: number): Record<string, unknown> {
    const def = this.metrics.def(this.metric.get(i));
    const r = (s: number) => rand(this.seed, 20 + s, i);
    const props: Record<string, unknown> = {};
    const product = pick(PRODUCTS, rand(this.seed, 11, i));
    switch (def.kind) {
      case 'order': {
        const qty = 1 + Math.floor(rand(this.seed, 12, i) * 3);
        props.$value = this.value(i);
        props.Items = [product.name];
        props['Item Count'] = qty;
        props['Discount Codes'] = r(1) < 0.2 ? ['WELCOME10'] : [];
        props.$extra = {
          order_number: `#${1000 + (i % 90000)}`,
          line_items: [{ sku: product.sku, title: product.name, quantity: qty, price: product.price }],
          'shipping.method': r(2) < 0.5 ? 'Standard' : 'Express',
        };
        break;
      }
      case 'product':
        props.$value = this.value(i);
        props.ProductName = product.name;
        props.SKU = product.sku;
        props.Categories = [product.category];
        props['Product Price'] = product.price;
        props['utm.source'] = r(3) < 0.5 ? 'google' : 'newsletter';
        break;
      case 'email':
        props.Subject = r(4) < 0.5 ? 'Our Spring Sale starts now 🌸' : 'Neu: Frühlingskollektion';
        props['Campaign Name'] = `Campaign ${1 + Math.floor(r(5) * 40)}`;
        props['Email Domain'] = 'example.com';
        props.$message = randomAlnum(this.seed, 13, i, 6);
        props.$_cohort$message_send_cohort = `${Math.floor(ms / 1000)}:${props.$message as string}`;
        break;
      case 'sms':
        props['Message Body'] = 'Your code: 1234 — reply STOP to opt out';
        props['Carrier Deliverability'] = r(6) < 0.9 ? 'delivered' : 'undelivered';
        break;
      case 'site':
        props.page = `/products/${product.sku.toLowerCase()}`;
        props.Größe = r(7) < 0.5 ? 'M' : 'L';
        props.商品 = product.name;
        break;
      case 'list':
        props.List = 'Newsletter';
        props.$source = -9;
        break;
    }
    props.$event_id = `${Math.floor(ms / 1000)}:${this.id(i)}`;
    return props;
  }
}
