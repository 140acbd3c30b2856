/**
 * The account's smaller objects that the top-level streams read beside the seed's: tags and tag groups,
 * coupons and their codes, forms, images, catalog items / variants / categories, push tokens. Tens to hundreds of
 * records each, held as objects in `SmallCollection`s; the filter fields, sorts and relationships are
 * those of the OpenAPI document of 2026-07-15.
 */
import type { CollectionName } from '../../klaviyo/endpoints/index.js';
import type { BuildContext, JsonResource } from './collection.js';
import { relLinks } from './collection.js';
import { randomAlnum, ulid } from './ids.js';
import type { ProfilesCollection } from './profiles.js';
import { pick, type Rng } from './random.js';
import { SmallCollection, type SmallRecord } from './small.js';
import { formatKlaviyoTime } from './time-format.js';
import { PRODUCTS } from './vocab.js';

const t = (ms: number) => formatKlaviyoTime(ms, 'micro');

/** The collections of this file, by endpoint name. */
export const ACCOUNT_OBJECT_NAMES = [
  'tag-groups',
  'tags',
  'coupons',
  'coupon-codes',
  'forms',
  'images',
  'catalog-categories',
  'catalog-items',
  'catalog-variants',
  'push-tokens',
] as const satisfies readonly CollectionName[];
export type AccountObjectName = (typeof ACCOUNT_OBJECT_NAMES)[number];

interface TagGroupRecord extends SmallRecord {
  exclusive: boolean;
  isDefault: boolean;
}
interface TagRecord extends SmallRecord {
  groupId: string;
}
interface CouponRecord extends SmallRecord {
  description: string | null;
  threshold: number | null;
}
/** A coupon's code; `name` is the unique code, `id` is `<coupon id>-<unique code>` as Klaviyo's. */
interface CouponCodeRecord extends SmallRecord {
  couponId: string;
  expiresAt: number | null;
  status: 'UNASSIGNED' | 'ASSIGNED_TO_PROFILE' | 'USED';
  profileIndex: number | null;
}
interface FormRecord extends SmallRecord {
  status: 'draft' | 'live';
  abTest: boolean;
}
interface ImageRecord extends SmallRecord {
  format: string;
  bytes: number;
  hidden: boolean;
}
interface CategoryRecord extends SmallRecord {
  externalId: string;
}
interface ItemRecord extends SmallRecord {
  externalId: string;
  price: number;
  published: boolean;
  categoryIds: string[];
}
interface VariantRecord extends SmallRecord {
  externalId: string;
  itemId: string;
  sku: string;
  price: number;
  quantity: number;
  published: boolean;
}
interface PushTokenRecord extends SmallRecord {
  token: string;
  status: string;
  platform: 'android' | 'ios';
  profileIndex: number;
}

function rel(ctx: BuildContext, path: string, id: string, name: string, data?: unknown) {
  return { ...(data !== undefined ? { data } : {}), links: relLinks(ctx.baseUrl, path, id, name) };
}

/** A catalog object's id as Klaviyo writes it: `$custom:::$default:::<external id>`. */
const catalogId = (externalId: string) => `$custom:::$default:::${externalId}`;

/** Every collection of this file, generated, changed and deleted together. */
export class AccountObjects {
  readonly tagGroups: SmallCollection<TagGroupRecord>;
  readonly tags: SmallCollection<TagRecord>;
  readonly coupons: SmallCollection<CouponRecord>;
  readonly couponCodes: SmallCollection<CouponCodeRecord>;
  readonly forms: SmallCollection<FormRecord>;
  readonly images: SmallCollection<ImageRecord>;
  readonly categories: SmallCollection<CategoryRecord>;
  readonly items: SmallCollection<ItemRecord>;
  readonly variants: SmallCollection<VariantRecord>;
  readonly pushTokens: SmallCollection<PushTokenRecord>;
  private readonly byName: ReadonlyMap<AccountObjectName, SmallCollection<SmallRecord>>;
  private serial = 0;

  constructor(
    private readonly seed: number,
    private readonly profiles: ProfilesCollection,
  ) {
    this.tagGroups = new SmallCollection<TagGroupRecord>({
      name: 'tag-groups',
      type: 'tag-group',
      fields: {
        name: { kind: 'string', get: (r) => r.name },
        exclusive: { kind: 'boolean', get: (r) => r.exclusive },
        default: { kind: 'boolean', get: (r) => r.isDefault },
      },
      build: (r, ctx) => ({
        attributes: { name: r.name, exclusive: r.exclusive, default: r.isDefault },
        relationships: { tags: rel(ctx, 'tag-groups', r.id, 'tags') },
      }),
    });
    this.tags = new SmallCollection<TagRecord>({
      name: 'tags',
      type: 'tag',
      fields: { name: { kind: 'string', get: (r) => r.name } },
      build: (r, ctx) => ({
        attributes: { name: r.name },
        relationships: {
          'tag-group': rel(ctx, 'tags', r.id, 'tag-group', { type: 'tag-group', id: r.groupId }),
          lists: rel(ctx, 'tags', r.id, 'lists'),
          segments: rel(ctx, 'tags', r.id, 'segments'),
          campaigns: rel(ctx, 'tags', r.id, 'campaigns'),
          flows: rel(ctx, 'tags', r.id, 'flows'),
        },
      }),
      included: (r, include, ctx) => {
        if (!include.has('tag-group')) return [];
        const index = this.tagGroups.records.findIndex((g) => g.id === r.groupId);
        return index === -1 ? [] : [this.tagGroups.resource(index, ctx)];
      },
    });
    this.coupons = new SmallCollection<CouponRecord>({
      name: 'coupons',
      type: 'coupon',
      fields: {},
      build: (r) => ({
        attributes: {
          external_id: r.name,
          description: r.description,
          monitor_configuration: r.threshold === null ? null : { low_balance_threshold: r.threshold },
        },
      }),
    });
    // Read per coupon with the filter the API requires (`equals(coupon.id,…)` or a profile); no sort.
    this.couponCodes = new SmallCollection<CouponCodeRecord>({
      name: 'coupon-codes',
      type: 'coupon-code',
      fields: {
        'coupon.id': { kind: 'string', get: (r) => r.couponId },
        'profile.id': {
          kind: 'string',
          get: (r) => (r.profileIndex === null ? null : this.profiles.id(r.profileIndex)),
        },
        expires_at: { kind: 'datetime', get: (r) => r.expiresAt },
        status: { kind: 'string', get: (r) => r.status },
      },
      build: (r, ctx) => ({
        attributes: {
          unique_code: r.name,
          expires_at: r.expiresAt === null ? null : t(r.expiresAt),
          status: r.status,
        },
        relationships: {
          coupon: rel(ctx, 'coupon-codes', r.id, 'coupon', { type: 'coupon', id: r.couponId }),
          profile:
            r.profileIndex === null
              ? rel(ctx, 'coupon-codes', r.id, 'profile')
              : rel(ctx, 'coupon-codes', r.id, 'profile', {
                  type: 'profile',
                  id: this.profiles.id(r.profileIndex),
                }),
        },
      }),
      included: (r, include, ctx) => {
        if (!include.has('coupon')) return [];
        const index = this.coupons.records.findIndex((c) => c.id === r.couponId);
        return index === -1 ? [] : [this.coupons.resource(index, ctx)];
      },
    });
    this.forms = new SmallCollection<FormRecord>({
      name: 'forms',
      type: 'form',
      fields: {
        name: { kind: 'string', get: (r) => r.name },
        ab_test: { kind: 'boolean', get: (r) => r.abTest },
        status: { kind: 'string', get: (r) => r.status },
        created_at: { kind: 'datetime', get: (r) => r.created },
        updated_at: { kind: 'datetime', get: (r) => r.updated },
      },
      build: (r, ctx) => ({
        attributes: {
          name: r.name,
          status: r.status,
          ab_test: r.abTest,
          created_at: t(r.created),
          updated_at: t(r.updated),
        },
        relationships: { 'form-versions': rel(ctx, 'forms', r.id, 'form-versions') },
      }),
    });
    this.images = new SmallCollection<ImageRecord>({
      name: 'images',
      type: 'image',
      fields: {
        name: { kind: 'string', get: (r) => r.name },
        format: { kind: 'string', get: (r) => r.format },
        size: { kind: 'number', get: (r) => r.bytes },
        hidden: { kind: 'boolean', get: (r) => r.hidden },
        updated_at: { kind: 'datetime', get: (r) => r.updated },
      },
      build: (r) => ({
        attributes: {
          name: r.name,
          image_url: `https://d3k81ch9hvuctc.cloudfront.net/company/SIMUL8/images/${r.id}.${r.format}`,
          format: r.format,
          size: r.bytes,
          hidden: r.hidden,
          updated_at: t(r.updated),
        },
      }),
    });
    this.categories = new SmallCollection<CategoryRecord>({
      name: 'catalog-categories',
      type: 'catalog-category',
      fields: {
        ids: { kind: 'string', get: (r) => r.id },
        name: { kind: 'string', get: (r) => r.name },
        created: { kind: 'datetime', get: (r) => r.created },
      },
      build: (r, ctx) => ({
        attributes: { external_id: r.externalId, name: r.name, updated: t(r.updated) },
        relationships: { items: rel(ctx, 'catalog-categories', r.id, 'items') },
      }),
    });
    this.items = new SmallCollection<ItemRecord>({
      name: 'catalog-items',
      type: 'catalog-item',
      fields: {
        ids: { kind: 'string', get: (r) => r.id },
        'category.id': { kind: 'string', get: (r) => r.categoryIds[0] ?? null },
        title: { kind: 'string', get: (r) => r.name },
        published: { kind: 'boolean', get: (r) => r.published },
        created: { kind: 'datetime', get: (r) => r.created },
      },
      build: (r, ctx) => ({
        attributes: {
          external_id: r.externalId,
          title: r.name,
          description: `${r.name}, from the simulated catalog.`,
          price: r.price,
          url: `https://example.com/products/${r.externalId.toLowerCase()}`,
          image_full_url: `https://example.com/images/${r.externalId.toLowerCase()}.jpg`,
          image_thumbnail_url: null,
          images: [`https://example.com/images/${r.externalId.toLowerCase()}.jpg`],
          custom_metadata: r.published ? { 'Top Pick': r.price > 50 } : null,
          published: r.published,
          created: t(r.created),
          updated: t(r.updated),
        },
        relationships: {
          variants: rel(
            ctx,
            'catalog-items',
            r.id,
            'variants',
            ctx.include.has('variants')
              ? this.variantsOf(r.id).map((v) => ({ type: 'catalog-variant', id: v.id }))
              : undefined,
          ),
        },
      }),
      included: (r, include, ctx) => {
        if (!include.has('variants')) return [];
        const out: JsonResource[] = [];
        this.variants.records.forEach((v, i) => {
          if (v.itemId === r.id) out.push(this.variants.resource(i, ctx));
        });
        return out;
      },
    });
    this.variants = new SmallCollection<VariantRecord>({
      name: 'catalog-variants',
      type: 'catalog-variant',
      fields: {
        ids: { kind: 'string', get: (r) => r.id },
        'item.id': { kind: 'string', get: (r) => r.itemId },
        sku: { kind: 'string', get: (r) => r.sku },
        title: { kind: 'string', get: (r) => r.name },
        published: { kind: 'boolean', get: (r) => r.published },
        created: { kind: 'datetime', get: (r) => r.created },
      },
      build: (r, ctx) => ({
        attributes: {
          external_id: r.externalId,
          title: r.name,
          description: `${r.name}, a variant from the simulated catalog.`,
          sku: r.sku,
          inventory_policy: 0,
          inventory_quantity: r.quantity,
          price: r.price,
          url: `https://example.com/products/${r.externalId.toLowerCase()}`,
          image_full_url: null,
          image_thumbnail_url: null,
          images: [],
          custom_metadata: null,
          published: r.published,
          created: t(r.created),
          updated: t(r.updated),
        },
        relationships: {
          item: rel(ctx, 'catalog-variants', r.id, 'item', { type: 'catalog-item', id: r.itemId }),
        },
      }),
    });
    this.pushTokens = new SmallCollection<PushTokenRecord>({
      name: 'push-tokens',
      type: 'push-token',
      fields: {
        'profile.id': { kind: 'string', get: (r) => this.profiles.id(r.profileIndex) },
        enablement_status: { kind: 'string', get: (r) => r.status },
        platform: { kind: 'string', get: (r) => r.platform },
      },
      build: (r, ctx) => ({
        attributes: {
          created: t(r.created),
          token: r.token,
          enablement_status: r.status,
          platform: r.platform,
          vendor: r.platform === 'ios' ? 'APNs' : 'FCM',
          background: 'AVAILABLE',
          recorded_date: t(r.updated),
          metadata: null,
        },
        relationships: {
          profile: rel(ctx, 'push-tokens', r.id, 'profile', {
            type: 'profile',
            id: this.profiles.id(r.profileIndex),
          }),
        },
      }),
      included: (r, include, ctx) =>
        include.has('profile')
          ? [this.profiles.resource(r.profileIndex, { ...ctx, include: new Set(), additional: new Set() })]
          : [],
    });
    this.byName = new Map<AccountObjectName, SmallCollection<SmallRecord>>([
      ['tag-groups', this.tagGroups],
      ['tags', this.tags],
      ['coupons', this.coupons],
      ['coupon-codes', this.couponCodes],
      ['forms', this.forms],
      ['images', this.images],
      ['catalog-categories', this.categories],
      ['catalog-items', this.items],
      ['catalog-variants', this.variants],
      ['push-tokens', this.pushTokens],
    ] as unknown as [AccountObjectName, SmallCollection<SmallRecord>][]);
  }

  collection(name: AccountObjectName): SmallCollection<SmallRecord> {
    return this.byName.get(name) as SmallCollection<SmallRecord>;
  }

  private variantsOf(itemId: string): VariantRecord[] {
    return this.variants.records.filter((v) => v.itemId === itemId);
  }

  /** Adds records created in [from, to], in creation order per collection (parents before children). */
  generate(counts: Partial<Record<AccountObjectName, number>>, from: number, to: number, rng: Rng): void {
    const span = Math.max(1, to - from);
    const times = (n: number) =>
      Array.from({ length: n }, () => {
        const created = from + Math.floor(rng.next() * span);
        const updated = rng.next() < 0.3 ? created : created + Math.floor(rng.next() * (to - created));
        return [created, Math.min(to, updated)] as const;
      }).sort((a, b) => a[0] - b[0]);
    const seed = this.seed;
    for (const name of ACCOUNT_OBJECT_NAMES) {
      const n = counts[name] ?? 0;
      for (const [created, updated] of times(n)) {
        const k = this.serial++;
        const record = this.make(name, k, created, updated, seed, rng);
        if (record !== null) this.collection(name).add(record);
      }
    }
  }

  private make(
    name: AccountObjectName,
    k: number,
    created: number,
    updated: number,
    seed: number,
    rng: Rng,
  ): SmallRecord | null {
    const product = PRODUCTS[k % PRODUCTS.length] as (typeof PRODUCTS)[number];
    switch (name) {
      case 'tag-groups':
        return {
          id: String(1000 + k),
          name:
            this.tagGroups.size() === 0
              ? 'Default Tag Group'
              : `${pick(['Season', 'Audience', 'Channel', 'Région'], rng.next())} ${k}`,
          created,
          updated,
          exclusive: rng.next() < 0.3,
          isDefault: this.tagGroups.size() === 0,
        } satisfies TagGroupRecord;
      case 'tags': {
        const groups = this.tagGroups.records;
        if (groups.length === 0) return null;
        return {
          id: ulid(created, seed, 700, k),
          name: `${pick(['Black Friday', 'VIP', 'Welcome', 'Rückgewinnung', 'Newsletter'], rng.next())} ${k}`,
          created,
          updated,
          groupId: (groups[Math.floor(rng.next() * groups.length)] as TagGroupRecord).id,
        } satisfies TagRecord;
      }
      case 'coupons': {
        // A coupon's id is its external id (the code's name in the shop integration).
        const code = `${pick(['SUMMER', 'WELCOME', 'VIP', 'BFCM'], rng.next())}${10 + (k % 40)}_${k}`;
        return {
          id: code,
          name: code,
          created,
          updated,
          description: rng.next() < 0.3 ? null : `${10 + (k % 40)}% off for purchases over $50`,
          threshold: rng.next() < 0.5 ? null : 100 * (1 + Math.floor(rng.next() * 9)),
        } satisfies CouponRecord;
      }
      case 'coupon-codes': {
        const coupons = this.coupons.records;
        if (coupons.length === 0) return null;
        const coupon = coupons[Math.floor(rng.next() * coupons.length)] as CouponRecord;
        const code = randomAlnum(seed, 705, k, 12).toUpperCase();
        const assigned = rng.next() < 0.4 && this.profiles.size() > 0;
        return {
          id: `${coupon.id}-${code}`,
          name: code,
          created: Math.max(created, coupon.created),
          updated: Math.max(updated, coupon.created),
          couponId: coupon.id,
          // Klaviyo sets a year when none is given; some codes never expire here.
          expiresAt: rng.next() < 0.2 ? null : Math.max(created, coupon.created) + 365 * 86_400_000,
          status: assigned ? pick(['ASSIGNED_TO_PROFILE', 'USED'] as const, rng.next()) : 'UNASSIGNED',
          profileIndex: assigned ? Math.floor(rng.next() * this.profiles.size()) : null,
        } satisfies CouponCodeRecord;
      }
      case 'forms':
        return {
          id: randomAlnum(seed, 702, k, 6),
          name: `${pick(['Newsletter popup', 'Exit intent', 'Spin to win', 'Anmeldung'], rng.next())} ${k}`,
          created,
          updated,
          status: rng.next() < 0.7 ? 'live' : 'draft',
          abTest: rng.next() < 0.2,
        } satisfies FormRecord;
      case 'images':
        return {
          id: String(90_000_000 + k),
          name: `${product.sku.toLowerCase()}-${k}`,
          created,
          updated,
          format: pick(['png', 'jpeg', 'gif'], rng.next()),
          bytes: 20_000 + Math.floor(rng.next() * 2_000_000),
          hidden: rng.next() < 0.1,
        } satisfies ImageRecord;
      case 'catalog-categories': {
        const externalId = `CATEGORY-${product.category.toUpperCase().replace(/\W+/g, '-')}-${k}`;
        return {
          id: catalogId(externalId),
          name: `${product.category} ${k}`,
          created,
          updated,
          externalId,
        } satisfies CategoryRecord;
      }
      case 'catalog-items': {
        const externalId = `${product.sku}-${k}`;
        const categories = this.categories.records;
        return {
          id: catalogId(externalId),
          name: `${product.name} ${k}`,
          created,
          updated,
          externalId,
          price: product.price,
          published: rng.next() < 0.9,
          categoryIds:
            categories.length === 0
              ? []
              : [(categories[Math.floor(rng.next() * categories.length)] as CategoryRecord).id],
        } satisfies ItemRecord;
      }
      case 'catalog-variants': {
        const items = this.items.records;
        if (items.length === 0) return null;
        const item = items[Math.floor(rng.next() * items.length)] as ItemRecord;
        const size = pick(['S', 'M', 'L', 'XL'], rng.next());
        const externalId = `${item.externalId}-${size}-${k}`;
        return {
          id: catalogId(externalId),
          name: `${item.name} ${size}`,
          created: Math.max(created, item.created),
          updated: Math.max(updated, item.created),
          externalId,
          itemId: item.id,
          sku: `${item.externalId}-${size}`,
          price: item.price,
          quantity: Math.floor(rng.next() * 200),
          published: item.published,
        } satisfies VariantRecord;
      }
      case 'push-tokens': {
        const profiles = this.profiles.size();
        if (profiles === 0) return null;
        const platform = rng.next() < 0.5 ? 'ios' : 'android';
        return {
          id: ulid(created, seed, 703, k),
          name: platform,
          created,
          updated,
          token: randomAlnum(seed, 704, k, 32),
          status: pick(['AUTHORIZED', 'AUTHORIZED', 'DENIED', 'NOT_DETERMINED', 'PROVISIONAL'], rng.next()),
          platform,
          profileIndex: Math.floor(rng.next() * profiles),
        } satisfies PushTokenRecord;
      }
    }
  }

  /**
   * Changes `n` records of a collection as an edit would: a new name (a coupon's description, a push
   * token's status), and `updated` moved by `newTime`.
   */
  update(name: AccountObjectName, n: number, newTime: (old: number) => number, rng: Rng): void {
    const coll = this.collection(name);
    for (const i of pickIndices(coll.size(), n, rng)) {
      const record = coll.records[i] as SmallRecord;
      record.updated = newTime(record.updated);
      if (name === 'push-tokens') (record as PushTokenRecord).status = 'UNAUTHORIZED';
      else if (name === 'coupon-codes') {
        // A code handed out, or one handed out used.
        const code = record as CouponCodeRecord;
        if (code.status === 'UNASSIGNED' && this.profiles.size() > 0) {
          code.status = 'ASSIGNED_TO_PROFILE';
          code.profileIndex = Math.floor(rng.next() * this.profiles.size());
        } else code.status = 'USED';
      } else if (name === 'coupons') (record as CouponRecord).description = `${record.name}: 5% off, edited`;
      else record.name = `${record.name.replace(/ \(edited\)$/, '')} (edited)`;
    }
    coll.touch();
  }

  /**
   * Deletes `n` records of a collection (a catalog item takes its variants with it, a coupon its
   * codes); returns their ids.
   */
  delete(name: AccountObjectName, n: number, rng: Rng): string[] {
    const coll = this.collection(name);
    const ids = pickIndices(coll.size(), n, rng).map((i) => coll.id(i));
    coll.removeIds(new Set(ids));
    const gone = new Set(ids);
    if (name === 'catalog-items') {
      this.variants.removeIds(
        new Set(this.variants.records.filter((v) => gone.has(v.itemId)).map((v) => v.id)),
      );
    }
    if (name === 'coupons') {
      this.couponCodes.removeIds(
        new Set(this.couponCodes.records.filter((c) => gone.has(c.couponId)).map((c) => c.id)),
      );
    }
    return ids;
  }
}

/** `n` distinct indices below `size`. */
export function pickIndices(size: number, n: number, rng: Rng): number[] {
  const chosen = new Set<number>();
  const want = Math.min(size, n);
  while (chosen.size < want) chosen.add(rng.int(size));
  return [...chosen];
}
