/**
 * A loopback HTTP server answering every request with one canned body (JSON or SSE text), so
 * that the official SDKs can parse what a surface renders. Records the requests it saw.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface CannedServer {
  baseURL: string;
  requests: { method: string; url: string; body: string }[];
  close(): Promise<void>;
}

export async function serveCanned(answer: { status?: number; contentType: string; body: string }): Promise<CannedServer> {
  const requests: CannedServer['requests'] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      requests.push({ method: req.method!, url: req.url!, body });
      res.writeHead(answer.status ?? 200, { 'content-type': answer.contentType });
      res.end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
