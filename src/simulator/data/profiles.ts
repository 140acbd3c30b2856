import type { BuildContext, Collection, FieldDef, JsonResource } from './collection.js';
import { relLinks, selfLink } from './collection.js';
import { f64 } from './growable.js';
import { ulid } from './ids.js';
import { pick, type Rng, rand } from './random.js';
import { formatKlaviyoTime } from './time-format.js';
import { EMAIL_DOMAINS, FIRST_NAMES, LAST_NAMES, PLACES } from './vocab.js';

const SUPPRESSION_REASONS = ['HARD_BOUNCE', 'UNSUBSCRIBE', 'SPAM_COMPLAINT', 'USER_SUPPRESSED'] as const;

/**
 * Profiles: `created` (sorted ascending by index) and `updated` columns; everything else is derived
 * from (seed, index) when a record is served.
 */
export class ProfilesCollection implements Collection {
  readonly name = 'profiles' as const;
  readonly type = 'profile';
  readonly naturalFields: ReadonlySet<string> = new Set(['created']);
  readonly created = f64(256);
  readonly updated = f64(256);
  private ver = 0;
  private readonly fields: Record<string, FieldDef>;
  /** Suppressions set or lifted after generation (null: not suppressed), by index. */
  private readonly suppressionChanges = new Map<number, number | null>();

  constructor(private readonly seed: number) {
    const r = (s: number, i: number) => rand(this.seed, s, i);
    const suppressedAt = (i: number) =>
      this.suppressionChanges.has(i)
        ? (this.suppressionChanges.get(i) ?? null)
        : r(40, i) < 0.05
          ? this.created.get(i) +
            Math.floor(r(41, i) * Math.max(0, this.updated.get(i) - this.created.get(i)))
          : null;
    this.fields = {
      id: { kind: 'string', get: (i) => this.id(i) },
      email: { kind: 'string', get: (i) => this.email(i) },
      phone_number: { kind: 'string', get: (i) => this.phone(i) },
      external_id: { kind: 'string', get: (i) => this.externalId(i) },
      _kx: { kind: 'string', get: () => null },
      created: { kind: 'datetime', get: (i) => this.created.get(i) },
      updated: { kind: 'datetime', get: (i) => this.updated.get(i) },
      'subscriptions.email.marketing.suppression.timestamp': { kind: 'datetime', get: suppressedAt },
      'subscriptions.email.marketing.suppression.reason': {
        kind: 'string',
        get: (i) => (suppressedAt(i) === null ? null : pick(SUPPRESSION_REASONS, r(42, i))),
      },
      'subscriptions.email.marketing.list_suppressions.timestamp': { kind: 'datetime', get: () => null },
      'subscriptions.email.marketing.list_suppressions.reason': { kind: 'string', get: () => null },
      'subscriptions.email.marketing.list_suppressions.list_id': { kind: 'string', get: () => null },
    };
  }

  size(): number {
    return this.created.length;
  }
  /** Suppresses email marketing at `atMs`, or lifts the suppression (null). */
  setSuppression(i: number, atMs: number | null): void {
    this.suppressionChanges.set(i, atMs);
    this.ver++;
  }
  version(): number {
    return this.ver;
  }
  touch(): void {
    this.ver++;
  }
  id(i: number): string {
    return ulid(this.created.get(i), this.seed, 1, i);
  }
  field(name: string): FieldDef | undefined {
    return this.fields[name];
  }

  /** Number of profiles created at or before `ms`. */
  countCreatedBy(ms: number): number {
    return this.created.upperBound(ms);
  }

  /** Appends `count` profiles created in (from, to], `updated` = created or somewhat later (<= to). */
  generate(count: number, from: number, to: number, rng: Rng): void {
    const start = Math.max(from, this.created.length ? this.created.get(this.created.length - 1) : from);
    const span = Math.max(1, to - start);
    const points = Array.from({ length: count }, () => start + 1 + Math.floor(rng.next() * (span - 1)));
    points.sort((a, b) => a - b);
    for (const c0 of points) {
      const c = rng.next() < 0.6 ? Math.max(start + 1, Math.floor(c0 / 1000) * 1000) : c0;
      this.created.push(c);
      const u = rng.next() < 0.4 ? c : c + Math.floor(rng.next() * (to - c));
      this.updated.push(Math.min(to, Math.max(c, u)));
    }
    this.ver++;
  }

  private first(i: number): string {
    return pick(FIRST_NAMES, rand(this.seed, 2, i));
  }
  private last(i: number): string {
    return pick(LAST_NAMES, rand(this.seed, 3, i));
  }
  email(i: number): string | null {
    if (rand(this.seed, 4, i) < 0.04) return null;
    const local = `${this.first(i)}.${this.last(i)}`
      .normalize('NFD')
      .replace(/[^A-Za-z.]/g, '')
      .toLowerCase();
    return `${local || 'customer'}.${i}@${pick(EMAIL_DOMAINS, rand(this.seed, 5, i))}`;
  }
  phone(i: number): string | null {
    if (rand(this.seed, 6, i) < 0.6) return null;
    return `+1555${String(1000000 + ((i * 7919) % 9000000)).slice(0, 7)}`;
  }
  externalId(i: number): string | null {
    return rand(this.seed, 7, i) < 0.5 ? null : `cust_${100000 + i}`;
  }

  resource(i: number, ctx: BuildContext): JsonResource {
    const id = this.id(i);
    const r = (s: number) => rand(this.seed, s, i);
    const created = this.created.get(i);
    const updated = this.updated.get(i);
    const place = pick(PLACES, r(8));
    const hasLocation = r(9) < 0.85;
    const attributes: Record<string, unknown> = {
      email: this.email(i),
      phone_number: this.phone(i),
      external_id: this.externalId(i),
      anonymous_id: null,
      first_name: r(10) < 0.1 ? null : this.first(i),
      last_name: r(10) < 0.15 ? null : this.last(i),
      organization: r(11) < 0.8 ? null : 'Example Trading Co.',
      locale: r(12) < 0.5 ? null : pick(['en-US', 'de-DE', 'fr-FR', 'ja-JP', 'pt-BR'], r(13)),
      title: r(14) < 0.85 ? null : 'Buyer',
      image: null,
      created: formatKlaviyoTime(created, 'micro'),
      updated: formatKlaviyoTime(updated, 'micro'),
      last_event_date: r(15) < 0.3 ? null : formatKlaviyoTime(Math.floor(updated / 1000) * 1000),
      location: hasLocation
        ? {
            address1: r(16) < 0.5 ? null : `${1 + Math.floor(r(17) * 999)} Main St`,
            address2: null,
            city: place.city,
            country: place.country,
            latitude: r(18) < 0.5 ? place.lat : String(place.lat),
            longitude: r(18) < 0.5 ? place.lon : String(place.lon),
            region: place.region,
            zip: place.zip,
            timezone: place.timezone,
            ip: r(19) < 0.5 ? null : `203.0.113.${i % 256}`,
          }
        : {
            address1: null,
            address2: null,
            city: null,
            country: null,
            latitude: null,
            longitude: null,
            region: null,
            zip: null,
            timezone: null,
            ip: null,
          },
      properties:
        r(20) < 0.3
          ? {}
          : {
              'Favorite Color': pick(['blue', 'grün', 'rouge', '紫'], r(21)),
              'loyalty.tier': pick(['bronze', 'silver', 'gold'], r(22)),
              $source: pick(['Shopify', 'API', 'Signup Form'], r(23)),
              'Accepts Marketing': r(24) < 0.5,
              'Lifetime Orders': Math.floor(r(25) * 30),
            },
    };
    if (ctx.additional.has('subscriptions')) attributes.subscriptions = this.subscriptions(i);
    if (ctx.additional.has('predictive_analytics')) attributes.predictive_analytics = this.predictive(i);
    const base = ctx.baseUrl;
    const relationships: Record<string, unknown> = {};
    for (const rel of ['lists', 'segments', 'push-tokens', 'conversations']) {
      relationships[rel] = {
        ...(ctx.include.has(rel) || (rel === 'conversations' && ctx.include.has('conversation'))
          ? { data: [] }
          : {}),
        links: relLinks(base, 'profiles', id, rel),
      };
    }
    return { type: 'profile', id, attributes, relationships, links: selfLink(base, 'profiles', id) };
  }

  private subscriptions(i: number): Record<string, unknown> {
    const r = (s: number) => rand(this.seed, s, i);
    const subscribed = r(30) < 0.6;
    const consentAt = formatKlaviyoTime(this.created.get(i), 'micro');
    const suppressed = this.fields['subscriptions.email.marketing.suppression.timestamp']?.get(i) ?? null;
    const smsConsent = r(31) < 0.2;
    return {
      email: {
        marketing: {
          can_receive_email_marketing: subscribed && suppressed === null,
          consent: subscribed ? 'SUBSCRIBED' : r(32) < 0.5 ? 'NEVER_SUBSCRIBED' : 'UNSUBSCRIBED',
          consent_timestamp: subscribed ? consentAt : null,
          last_updated: subscribed ? consentAt : null,
          method: subscribed ? 'FORM' : null,
          method_detail: subscribed ? 'Footer signup' : null,
          custom_method_detail: null,
          double_optin: subscribed ? r(33) < 0.5 : null,
          suppression:
            suppressed === null
              ? []
              : [
                  {
                    reason: this.fields['subscriptions.email.marketing.suppression.reason']?.get(i),
                    timestamp: formatKlaviyoTime(suppressed as number, 'micro'),
                  },
                ],
          list_suppressions: [],
        },
      },
      sms: {
        marketing: {
          can_receive_sms_marketing: smsConsent,
          consent: smsConsent ? 'SUBSCRIBED' : 'NEVER_SUBSCRIBED',
          consent_timestamp: smsConsent ? consentAt : null,
          method: smsConsent ? 'TEXT' : null,
          method_detail: smsConsent ? 'JOIN' : null,
          last_updated: smsConsent ? consentAt : null,
        },
        transactional: {
          can_receive_sms_transactional: false,
          consent: 'NEVER_SUBSCRIBED',
          consent_timestamp: null,
          method: null,
          method_detail: null,
          last_updated: null,
        },
      },
      mobile_push: {
        marketing: {
          can_receive_push_marketing: false,
          consent: 'NEVER_SUBSCRIBED',
          consent_timestamp: null,
        },
      },
    };
  }

  private predictive(i: number): Record<string, unknown> {
    const r = (s: number) => rand(this.seed, s, i);
    if (r(34) < 0.3) {
      return {
        historic_clv: null,
        predicted_clv: null,
        total_clv: null,
        historic_number_of_orders: null,
        predicted_number_of_orders: null,
        average_days_between_orders: null,
        average_order_value: null,
        churn_probability: null,
        expected_date_of_next_order: null,
        ranked_channel_affinity: null,
      };
    }
    const historic = Math.round(r(35) * 200000) / 100;
    const predicted = Math.round(r(36) * 50000) / 100;
    const orders = 1 + Math.floor(r(37) * 12);
    return {
      historic_clv: historic,
      predicted_clv: predicted,
      total_clv: Math.round((historic + predicted) * 100) / 100,
      historic_number_of_orders: orders,
      predicted_number_of_orders: Math.round(r(38) * 300) / 100,
      average_days_between_orders: Math.round(r(39) * 9000) / 100,
      average_order_value: Math.round((historic / orders) * 100) / 100,
      churn_probability: Math.round(r(43) * 100) / 100,
      expected_date_of_next_order: formatKlaviyoTime(
        this.updated.get(i) + Math.floor(r(44) * 60) * 86_400_000 - (this.updated.get(i) % 1000),
      ),
      ranked_channel_affinity: ['email', 'sms', 'push'],
    };
  }
}
