/**
 * `npx tsx bench/floor.ts`: the floor of a Fastify gateway — the same JSON body parsing as the
 * gateway, one undici request upstream, the answer parsed and sent back with two extra headers,
 * nothing else — against the bare proxy, both pinned to core 0 like in `npm run bench`. Prints
 * req/s and the CPU each request cost the whole process (from /proc), closed loop at 50
 * connections, 3 rounds after a warm-up. Tells whether the framework or the gateway's own work
 * stands between the gateway and the bare proxy (bench/README.md, "The profile").
 *
 *   npx tsx bench/floor.ts --serve UPSTREAM   the floor server itself (started by the above)
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import Fastify from 'fastify';
import { Agent } from 'undici';
import { chat, load, start } from './harness.js';

const { values } = parseArgs({ options: { serve: { type: 'string' }, duration: { type: 'string', default: '4' } } });

function serve(upstream: string): void {
  const agent = new Agent({ connections: 256, keepAliveTimeout: 30_000 });
  const app = Fastify({ logger: false });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => done(null, JSON.parse((body as Buffer).toString('utf8'))));
  app.addHook('onRequest', async () => undefined);
  app.post('/v1/chat/completions', async (request, reply) => {
    const res = await agent.request({
      origin: upstream,
      path: '/v1/chat/completions',
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer sk-bench' },
      body: JSON.stringify(request.body),
      signal: new AbortController().signal,
    });
    const text = await res.body.text();
    JSON.parse(text);
    return reply.headers({ 'x-omega-a': '1', 'x-omega-b': '2' }).type('application/json').send(text);
  });
  void app.listen({ port: 0, host: '127.0.0.1' }).then(() => process.stdout.write(`listening ${(app.server.address() as { port: number }).port}\n`));
}

function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

async function compare(): Promise<void> {
  const duration = Number(values.duration);
  const upstream = await start(1, ['--import', 'tsx', 'bench/upstream.ts']);
  const bare = await start(0, ['--import', 'tsx', 'bench/bare-proxy.ts', upstream.url]);
  const floor = await start(0, ['--import', 'tsx', 'bench/floor.ts', '--serve', upstream.url]);
  try {
    for (const p of [bare, floor]) await load(p.url, chat('bench'), 50, 3);
    for (let round = 1; round <= 3; round++) {
      const line: string[] = [];
      for (const [name, p] of [['bare', bare], ['floor', floor]] as const) {
        const before = cpuSeconds(p.child.pid!);
        const r = await load(p.url, chat('bench'), 50, duration);
        const us = ((cpuSeconds(p.child.pid!) - before) / (r.rps * duration)) * 1e6;
        line.push(`${name} ${r.rps.toFixed(0)} req/s, ${us.toFixed(0)} µs CPU/request`);
      }
      console.log(`round ${round}: ${line.join('; ')}`);
    }
  } finally {
    for (const p of [upstream, bare, floor]) p.child.kill('SIGTERM');
  }
}

if (values.serve) serve(values.serve);
else await compare();
