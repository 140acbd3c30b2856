/** A tiny HTTP server for client tests (a request log, JSON:API replies and errors), closed with its sockets. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
  /** 1-based arrival order. */
  n: number;
}

export type Handler = (req: SeenRequest, res: ServerResponse) => void | Promise<void>;

export interface TestServer {
  baseUrl: string;
  requests: SeenRequest[];
  close(): Promise<void>;
}

/** A tiny HTTP server on 127.0.0.1 with a request log. */
export async function startServer(handler: Handler): Promise<TestServer> {
  const requests: SeenRequest[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const seen: SeenRequest = {
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        n: requests.length + 1,
      };
      requests.push(seen);
      Promise.resolve(handler(seen, res)).catch((error: unknown) => {
        res.statusCode = 599;
        res.end(String(error));
      });
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/vnd.api+json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

export function apiError(status: number, code: string, detail: string, parameter?: string) {
  return {
    errors: [
      {
        id: 'e1',
        status,
        code,
        title: 'Error.',
        detail,
        source: parameter ? { parameter } : { pointer: '/data/' },
        links: {},
        meta: {},
      },
    ],
  };
}

export function event(id: string) {
  return {
    type: 'event',
    id,
    attributes: { datetime: '2025-01-01T00:00:00+00:00' },
    links: { self: `/x/${id}` },
  };
}
