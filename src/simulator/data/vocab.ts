/** Word lists for generated records (realistic, with unicode). */

export const FIRST_NAMES = [
  'Olivia',
  'Liam',
  'Emma',
  'Noah',
  'Ava',
  'Lucas',
  'Sofía',
  'Mateo',
  'Zoë',
  'Élodie',
  'Jürgen',
  'Søren',
  'Aiko',
  'Hiroshi',
  'Chloé',
  'Ana',
  'João',
  'Priya',
  'Arjun',
  'Mei',
  'Wei',
  'Fatima',
  'Omar',
  'Ingrid',
  'Björn',
  'Łukasz',
  'Zuzana',
  'Nikolai',
  'Amara',
  'Kwame',
  'Grace',
  'Henry',
  'Isla',
  'Jack',
  'Lena',
  'Max',
];

export const LAST_NAMES = [
  'Smith',
  'Johnson',
  'García',
  'Müller',
  'Rossi',
  'Dubois',
  'Kowalski',
  'Nguyen',
  'Tanaka',
  'Kim',
  'Silva',
  "O'Brien",
  'Østergaard',
  'Nakamura',
  'Patel',
  'Schröder',
  'Novák',
  'Fernández',
  'Ivanova',
  'Okafor',
  'Brown',
  'Wilson',
  'Taylor',
  'Andersson',
  'Lefèvre',
  '李',
  'Yılmaz',
  'Haddad',
  'Murphy',
  'Jensen',
];

export const EMAIL_DOMAINS = [
  'example.com',
  'example.org',
  'mail.example.net',
  'shop.example.io',
  'exämple.de',
];

export interface Place {
  city: string;
  region: string;
  country: string;
  zip: string;
  timezone: string;
  lat: number;
  lon: number;
}

export const PLACES: Place[] = [
  {
    city: 'Springfield',
    region: 'Illinois',
    country: 'United States',
    zip: '62701',
    timezone: 'America/Chicago',
    lat: 39.7817,
    lon: -89.6501,
  },
  {
    city: 'Boston',
    region: 'Massachusetts',
    country: 'United States',
    zip: '02108',
    timezone: 'America/New_York',
    lat: 42.3601,
    lon: -71.0589,
  },
  {
    city: 'San Francisco',
    region: 'California',
    country: 'United States',
    zip: '94103',
    timezone: 'America/Los_Angeles',
    lat: 37.7749,
    lon: -122.4194,
  },
  {
    city: 'London',
    region: 'England',
    country: 'United Kingdom',
    zip: 'EC1A 1BB',
    timezone: 'Europe/London',
    lat: 51.5074,
    lon: -0.1278,
  },
  {
    city: 'München',
    region: 'Bayern',
    country: 'Germany',
    zip: '80331',
    timezone: 'Europe/Berlin',
    lat: 48.1351,
    lon: 11.582,
  },
  {
    city: 'São Paulo',
    region: 'SP',
    country: 'Brazil',
    zip: '01000-000',
    timezone: 'America/Sao_Paulo',
    lat: -23.5505,
    lon: -46.6333,
  },
  {
    city: '東京',
    region: 'Tokyo',
    country: 'Japan',
    zip: '100-0001',
    timezone: 'Asia/Tokyo',
    lat: 35.6762,
    lon: 139.6503,
  },
  {
    city: 'Kraków',
    region: 'Małopolskie',
    country: 'Poland',
    zip: '30-001',
    timezone: 'Europe/Warsaw',
    lat: 50.0647,
    lon: 19.945,
  },
  {
    city: 'Toronto',
    region: 'Ontario',
    country: 'Canada',
    zip: 'M5H 2N2',
    timezone: 'America/Toronto',
    lat: 43.6532,
    lon: -79.3832,
  },
  {
    city: 'Sydney',
    region: 'NSW',
    country: 'Australia',
    zip: '2000',
    timezone: 'Australia/Sydney',
    lat: -33.8688,
    lon: 151.2093,
  },
];

export const PRODUCTS = [
  { name: 'Classic Tee', sku: 'TEE-001', price: 24.0, category: 'Apparel' },
  { name: 'Organic Coffee Beans 1kg', sku: 'COF-1KG', price: 31.5, category: 'Grocery' },
  { name: 'Trail Runner Shoe', sku: 'SHO-TR2', price: 129.99, category: 'Footwear' },
  { name: 'Ceramic Mug „Morgen“', sku: 'MUG-DE', price: 14.25, category: 'Home' },
  { name: 'Wireless Earbuds', sku: 'AUD-WE5', price: 89.0, category: 'Electronics' },
  { name: '抹茶 Matcha Tin', sku: 'TEA-MT', price: 18.75, category: 'Grocery' },
  { name: 'Yoga Mat', sku: 'FIT-YM', price: 45.0, category: 'Fitness' },
  { name: 'Gift Card', sku: 'GC-50', price: 50.0, category: 'Gift Cards' },
];

export interface MetricDef {
  name: string;
  integration: { key: string; name: string; category: string; id: string };
  weight: number;
  kind: 'order' | 'product' | 'email' | 'sms' | 'site' | 'list';
}

const SHOPIFY = { id: '0eMvjm', key: 'shopify', name: 'Shopify', category: 'eCommerce' };
const KLAVIYO = { id: '0rG4eQ', key: 'klaviyo', name: 'Klaviyo', category: 'Internal' };
const API = { id: '7FtS4J', key: 'api', name: 'API', category: 'API' };

export const METRIC_DEFS: MetricDef[] = [
  { name: 'Placed Order', integration: SHOPIFY, weight: 6, kind: 'order' },
  { name: 'Ordered Product', integration: SHOPIFY, weight: 8, kind: 'product' },
  { name: 'Viewed Product', integration: KLAVIYO, weight: 20, kind: 'product' },
  { name: 'Active on Site', integration: API, weight: 14, kind: 'site' },
  { name: 'Received Email', integration: KLAVIYO, weight: 18, kind: 'email' },
  { name: 'Opened Email', integration: KLAVIYO, weight: 10, kind: 'email' },
  { name: 'Clicked Email', integration: KLAVIYO, weight: 4, kind: 'email' },
  { name: 'Started Checkout', integration: SHOPIFY, weight: 5, kind: 'order' },
  { name: 'Fulfilled Order', integration: SHOPIFY, weight: 4, kind: 'order' },
  { name: 'Refunded Order', integration: SHOPIFY, weight: 1, kind: 'order' },
  { name: 'Subscribed to List', integration: KLAVIYO, weight: 2, kind: 'list' },
  { name: 'Received SMS', integration: KLAVIYO, weight: 4, kind: 'sms' },
  { name: 'Clicked SMS', integration: KLAVIYO, weight: 1, kind: 'sms' },
  { name: 'Unsubscribed', integration: KLAVIYO, weight: 1, kind: 'email' },
  { name: 'Bounced Email', integration: KLAVIYO, weight: 1, kind: 'email' },
  { name: 'Added to Cart', integration: API, weight: 6, kind: 'product' },
  { name: 'Checkout Started', integration: API, weight: 2, kind: 'order' },
  { name: 'Cancelled Order', integration: SHOPIFY, weight: 1, kind: 'order' },
  { name: 'Marked Email as Spam', integration: KLAVIYO, weight: 1, kind: 'email' },
  { name: 'Dropped Email', integration: KLAVIYO, weight: 1, kind: 'email' },
];

export const CAMPAIGN_WORDS = [
  'Spring Sale',
  'Black Friday',
  'Welcome Back',
  'New Arrivals',
  'Weekly Digest',
  'VIP Early Access',
  'Sommerschlussverkauf',
  'Flash Deal ⚡',
  'Restock Alert',
  'Holiday Gift Guide',
];
export const LIST_WORDS = [
  'Newsletter',
  'VIP Customers',
  'Newsletter (DE)',
  'SMS Subscribers',
  'Back in Stock',
  'Preview List',
  'Test List',
  'Wholesale',
  'Événements',
  'Lapsed Buyers',
];
export const FLOW_NAMES = [
  'Abandoned Cart',
  'Welcome Series',
  'Browse Abandonment',
  'Post-Purchase Thank You',
  'Win-back',
  'Birthday Flow',
  'Price Drop Alert',
  'Back in Stock',
  'Sunset Unengaged',
  'Customer Thank You',
];
export const TRIGGER_TYPES = [
  'Metric',
  'Added to List',
  'Unconfigured',
  'Date Based',
  'Price Drop',
  'Low Inventory',
] as const;
