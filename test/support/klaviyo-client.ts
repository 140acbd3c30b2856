/** The Klaviyo client against a test server: test defaults, and servers and clients closed after each test. */
import { afterEach } from 'vitest';
import {
  createKlaviyoClient,
  type KlaviyoClient,
  type KlaviyoClientOptions,
} from '../../src/klaviyo/client.js';
import { RateLimiterRegistry } from '../../src/klaviyo/rate-limiter.js';
import { InstantClock } from './clocks.js';
import { type Handler, startServer, type TestServer } from './http-server.js';

export const TEST_REVISION = '2026-07-15';
export const TEST_KEY = 'pk_test_0123456789abcdef';

export type TestClientOptions = Partial<KlaviyoClientOptions>;

/**
 * `createKlaviyoClient` on `baseUrl` with revision 2026-07-15, an `InstantClock` (unless `clock` is
 * given), jitter `random: () => 0` and a rate-limiter registry of its own on that clock. `options`
 * override any of these.
 */
export function testClient(baseUrl: string, options: TestClientOptions = {}): KlaviyoClient {
  const clock = options.clock ?? new InstantClock();
  return createKlaviyoClient({
    apiKey: TEST_KEY,
    revision: TEST_REVISION,
    baseUrl,
    clock,
    random: () => 0,
    limiter: new RateLimiterRegistry(clock),
    ...options,
  });
}

export interface KlaviyoTestbed {
  /** A test server, closed after the test. */
  serve(handler: Handler): Promise<TestServer>;
  /** `testClient` with the testbed's defaults, closed after the test (before the servers). */
  client(baseUrl: string, options?: TestClientOptions): KlaviyoClient;
}

/** Call at the top of a test file: registers an `afterEach` that closes what the tests made. */
export function klaviyoTestbed(defaults: TestClientOptions = {}): KlaviyoTestbed {
  const servers: TestServer[] = [];
  const clients: KlaviyoClient[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.close();
    for (const s of servers.splice(0)) await s.close();
  });
  return {
    async serve(handler) {
      const server = await startServer(handler);
      servers.push(server);
      return server;
    },
    client(baseUrl, options = {}) {
      const client = testClient(baseUrl, { ...defaults, ...options });
      clients.push(client);
      return client;
    },
  };
}
