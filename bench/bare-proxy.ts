/**
 * The baseline: the thinnest honest proxy — node:http in, an undici Pool out, bodies piped
 * both ways without parsing. The gateway's figures are reported as ratios against it.
 */
import { createServer } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { Pool } from 'undici';

const upstream = process.argv[2]!;
const pool = new Pool(upstream, { connections: 256, keepAliveTimeout: 30_000 });

const server = createServer(async (req, res) => {
  try {
    const upstreamRes = await pool.request({
      path: req.url!,
      method: req.method as 'POST',
      headers: { 'content-type': req.headers['content-type'] ?? 'application/json', authorization: 'Bearer sk-bench' },
      body: req,
    });
    res.writeHead(upstreamRes.statusCode, { 'content-type': String(upstreamRes.headers['content-type'] ?? 'application/json') });
    await pipeline(upstreamRes.body, res);
  } catch {
    if (!res.headersSent) res.writeHead(502);
    res.end();
  }
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`listening ${typeof address === 'object' && address ? address.port : 0}\n`);
});
