import type { ServerResponse } from 'node:http';

export const JSON_API = 'application/vnd.api+json';

export const CLOUDFLARE_403_HTML = `<!DOCTYPE html>
<html lang="en-US"><head><title>Just a moment...</title>
<meta http-equiv="Content-Type" content="text/html; charset=UTF-8">
<meta name="robots" content="noindex,nofollow"></head>
<body><div class="main-wrapper" role="main"><div class="main-content">
<h1 class="zone-name-title h1">a.klaviyo.com</h1>
<h2 class="h2" id="challenge-running">Checking if the site connection is secure</h2>
<noscript><div class="h2"><span id="challenge-error-text">Enable JavaScript and cookies to continue</span></div></noscript>
</div></div>
<div class="footer" role="contentinfo"><div class="footer-inner"><div class="text-center" id="footer-text">Performance &amp; security by Cloudflare</div></div></div>
</body></html>
`;

export type BodyMode = 'normal' | 'truncate' | 'reset';

/**
 * Writes a response. `truncate` cuts the body in half and sends a Content-Length matching the cut body;
 * `reset` announces the full length, writes half and destroys the socket.
 */
export function writeResponse(
  res: ServerResponse,
  status: number,
  headers: Record<string, string>,
  body: string | Buffer,
  mode: BodyMode = 'normal',
): void {
  const buf = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const half = buf.subarray(0, Math.floor(buf.length / 2));
  const out = mode === 'truncate' ? half : buf;
  res.writeHead(status, { ...headers, 'Content-Length': String(out.length) });
  if (mode === 'reset') {
    res.write(half, () => {
      res.socket?.destroy();
    });
    return;
  }
  res.end(out);
}
