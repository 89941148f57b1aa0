/**
 * `npm run bench`: the gateway against a bare undici proxy, both in front of the same local fake
 * upstream, in the same run, with `bench/omega.bench.yaml` (issue 15's configuration). The
 * proxies run pinned to core 0; the upstream and this load generator to core 1 (when `taskset`
 * exists). Reports ratios, not absolute numbers, each with the load average when it was taken.
 *
 * Options: --duration S (autocannon runs, default 8), --requests N (sequential latency runs,
 * default 3000), --rate R (open-loop offered rate, default 3000), --open-seconds S (default 5),
 * --translation (also the Anthropic-translated chat scenario), --json FILE (write the results),
 * --workers (also one vs two `omega serve --workers` with Redis: bench/workers.ts), --workers-only
 * (that scenario alone).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { chat, hasTaskset, load, loadAverage, messages, rssMb, sequential, start, type LatencyResult, type LoadResult, type Proc } from './harness.js';
import { microBenchmarks } from './micro.js';
import { openLoop, type OpenLoopResult } from './open-loop.js';
import { workersScenario } from './workers.js';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '8' },
    requests: { type: 'string', default: '3000' },
    rate: { type: 'string', default: '3000' },
    'open-seconds': { type: 'string', default: '5' },
    translation: { type: 'boolean', default: false },
    json: { type: 'string' },
    workers: { type: 'boolean', default: false },
    'workers-only': { type: 'boolean', default: false },
  },
});
const DURATION = Number(values.duration);
const SEQUENTIAL = Number(values.requests);
const RATE = Number(values.rate);
const OPEN_SECONDS = Number(values['open-seconds']);
if (hasTaskset) spawnSync('taskset', ['-cp', '1', String(process.pid)]);

const f = (n: number, d = 3) => n.toFixed(d);
const la = () => `load ${f(loadAverage(), 2)}`;
const results: Record<string, unknown> = {};

function gateway(upstream: string, dataDir: string, durability = 'batched'): Promise<Proc> {
  return start(0, ['dist/cli/index.js', 'serve', '--config', 'bench/omega.bench.yaml'], {
    BENCH_UPSTREAM: upstream,
    BENCH_DATA_DIR: dataDir,
    BENCH_AUDIT_DURABILITY: durability,
    OMEGA_LOG_LEVEL: 'warn',
    ...(process.env.BENCH_GATEWAY_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_GATEWAY_NODE_OPTIONS } : {}),
  });
}

/** Closed-loop pair (direct optional), printed as one block with the gateway/bare ratio. */
async function pair(name: string, urls: { direct?: string; bare: string; gateway: string }, shape: ReturnType<typeof chat>, connections: number) {
  const out: Record<string, LoadResult | number | string> = {};
  console.log(`${name}, ${connections} connections, 0 ms upstream     req/s    p99 ms  errors   (${la()})`);
  for (const who of ['direct', 'bare', 'gateway'] as const) {
    const url = urls[who];
    if (!url) continue;
    const r = await load(url, shape, connections, DURATION);
    out[who] = r;
    console.log(`  ${who.padEnd(42)} ${f(r.rps, 0).padStart(7)}  ${f(r.p99, 1).padStart(6)}  ${r.errors}`);
  }
  const ratio = (out.gateway as LoadResult).rps / (out.bare as LoadResult).rps;
  out.ratio = ratio;
  out.load = loadAverage();
  console.log(`  ratio gateway/bare: ${f(ratio, 2)} (target ≥ 0.50 ${ratio >= 0.5 ? 'met' : 'NOT met'}); ${la()}\n`);
  return out;
}

function printOpen(name: string, r: OpenLoopResult): void {
  console.log(`  ${name.padEnd(12)} offered ${r.offered}/s achieved ${f(r.achieved, 0)}/s  p50 ${f(r.p50, 2)}  p99 ${f(r.p99, 2)}  max ${f(r.max, 1)} ms  in flight ≤ ${r.maxInFlight}  errors ${r.errors}${r.unfinished ? `  unfinished at cut-off ${r.unfinished}` : ''}`);
}

/** --workers-only: the workers scenario with its own upstream, nothing else. */
async function workersOnly(): Promise<void> {
  const upstream = await start(1, ['--import', 'tsx', 'bench/upstream.ts']);
  try {
    results.workers = await workersScenario({ upstream: upstream.url, duration: DURATION });
    if (values.json) writeFileSync(values.json, JSON.stringify(results, null, 2));
  } finally {
    upstream.child.kill('SIGTERM');
  }
}

async function main(): Promise<void> {
  if (values['workers-only']) return workersOnly();
  console.log(`bench: node ${process.version}, pinned ${hasTaskset}, ${la()}`);
  const micro = await microBenchmarks();
  results.micro = micro;
  console.log(`in-process, mean per request (${micro.request_bytes} B chat request):`);
  console.log(`  policy evaluation (5 rules: secrets, cards, PII, injection, term): ${f(micro.policy_evaluate_us!, 1)} µs`);
  console.log(`  input token count (o200k tokenizer):                               ${f(micro.tokenizer_o200k_us!, 1)} µs`);
  console.log(`  rate quotas (3 rules) + budget hold and settle (3 scopes):         ${f(micro.budget_and_limits_us!, 1)} µs\n`);
  const dataDir = mkdtempSync(join(tmpdir(), 'omega-bench-'));
  const tsx = ['--import', 'tsx'];
  const started: Proc[] = [];
  const stopAll = () => started.forEach((p) => p.child.kill('SIGTERM'));
  process.once('SIGINT', () => (stopAll(), process.exit(130)));
  process.once('SIGTERM', () => (stopAll(), process.exit(143)));
  let upstream: Proc, bare: Proc, gw: Proc;
  try {
    started.push((upstream = await start(1, [...tsx, 'bench/upstream.ts'])));
    started.push((bare = await start(0, [...tsx, 'bench/bare-proxy.ts', upstream.url])));
    started.push((gw = await gateway(upstream.url, dataDir)));
  } catch (err) {
    stopAll();
    throw err;
  }
  Object.assign(results, { date: new Date().toISOString(), node: process.version, pinned: hasTaskset, duration_s: DURATION, sequential_requests: SEQUENTIAL });
  const urls = { direct: upstream.url, bare: bare.url, gateway: gw.url };
  try {
    console.log(`upstream ${upstream.url}, bare proxy ${bare.url}, gateway ${gw.url}\n`);

    // 1. One in flight: added latency, timed per request with performance.now().
    const body = chat('bench');
    const one: Record<string, LatencyResult> = {};
    for (const who of ['direct', 'bare', 'gateway'] as const) one[who] = await sequential(urls[who], body, SEQUENTIAL);
    const added = (r: LatencyResult) => ({ p50: r.p50 - one.direct!.p50, p99: r.p99 - one.direct!.p99 });
    const ab = added(one.bare!);
    const ag = added(one.gateway!);
    console.log(`chat, 1 request in flight, 0 ms upstream (ms) p50     p99    mean   req/s   (${la()})`);
    for (const who of ['direct', 'bare', 'gateway'] as const) {
      const r = one[who]!;
      console.log(`  ${who.padEnd(44)} ${f(r.p50)}  ${f(r.p99)}  ${f(r.mean)}  ${f(r.rps, 0)}`);
    }
    console.log(`  added vs direct: bare p50 ${f(ab.p50)} p99 ${f(ab.p99)}; gateway p50 ${f(ag.p50)} p99 ${f(ag.p99)}`);
    console.log(`  targets: gateway added p50 ≤ 0.4 ms ${ag.p50 <= 0.4 ? 'met' : 'NOT met'}, p99 ≤ 1.5 ms ${ag.p99 <= 1.5 ? 'met' : 'NOT met'}\n`);
    results.one_in_flight = { ...one, added_bare: ab, added_gateway: ag, load: loadAverage() };

    // 2. Closed loop: chat JSON and stream; messages passthrough JSON and stream.
    results.chat_json = await pair('chat JSON', urls, body, 50);
    const rss = { bare: rssMb(bare.child.pid!), gateway: rssMb(gw.child.pid!) };
    console.log(`RSS after the chat load: bare ${f(rss.bare, 0)} MB, gateway ${f(rss.gateway, 0)} MB (target ≤ 150 MB ${rss.gateway <= 150 ? 'met' : 'NOT met'})\n`);
    results.rss_after_chat = rss;
    results.chat_stream = await pair('chat stream (22 SSE chunks)', urls, chat('bench', true), 20);
    results.messages_json = await pair('/v1/messages passthrough JSON', urls, messages('claude-bench'), 50);
    results.messages_stream = await pair('/v1/messages passthrough stream', urls, messages('claude-bench', true), 20);

    const ttfb: Record<string, LatencyResult> = {};
    for (const who of ['direct', 'bare', 'gateway'] as const) ttfb[who] = await sequential(urls[who], chat('bench', true), Math.ceil(SEQUENTIAL / 3), true);
    console.log(`chat stream, time to first byte, 1 in flight (p50/p99 ms): direct ${f(ttfb.direct!.p50)}/${f(ttfb.direct!.p99)}, bare ${f(ttfb.bare!.p50)}/${f(ttfb.bare!.p99)}, gateway ${f(ttfb.gateway!.p50)}/${f(ttfb.gateway!.p99)} (${la()})\n`);
    results.ttfb = ttfb;

    if (values.translation) {
      const translated = await load(gw.url, chat('bench-anthropic-translated'), 50, DURATION);
      console.log(`chat → Anthropic translated, 50 connections: ${f(translated.rps, 0)} req/s, errors ${translated.errors} (${la()})\n`);
      results.translation = translated;
    }

    // 3. Open loop: 50 ms upstream at a fixed offered rate, timed from each intended start.
    console.log(`open loop, 50 ms upstream, ${RATE} req/s offered for ${OPEN_SECONDS} s (after 1 s warm-up), ms from intended start   (${la()})`);
    const slow = chat('bench-delay-50');
    const open: Record<string, OpenLoopResult> = {};
    for (const who of ['direct', 'bare', 'gateway'] as const) {
      open[who] = await openLoop(urls[who], who === 'direct' ? chat('gpt-4o-mini-delay-50') : slow, RATE, OPEN_SECONDS);
      printOpen(who, open[who]!);
    }
    console.log(`  p99 vs direct: bare +${f(open.bare!.p99 - open.direct!.p99, 2)} ms, gateway +${f(open.gateway!.p99 - open.direct!.p99, 2)} ms; ${la()}\n`);
    results.open_loop = { ...open, load: loadAverage() };
    const rssEnd = { bare: rssMb(bare.child.pid!), gateway: rssMb(gw.child.pid!) };
    console.log(`RSS at the end: bare ${f(rssEnd.bare, 0)} MB, gateway ${f(rssEnd.gateway, 0)} MB\n`);
    results.rss_end = rssEnd;

    // 4. Strict audit: the decision record committed and fsynced before forwarding.
    const strictDir = mkdtempSync(join(tmpdir(), 'omega-bench-strict-'));
    const strict = await gateway(upstream.url, strictDir, 'strict');
    started.push(strict);
    try {
      const strictOne = await sequential(strict.url, body, Math.ceil(SEQUENTIAL / 3));
      const strict50 = await load(strict.url, body, 50, DURATION);
      const bare50 = (results.chat_json as Record<string, LoadResult>).bare!;
      console.log(`strict audit (chat JSON)                        p50 ms  p99 ms   req/s @50   (${la()})`);
      console.log(`  batched                                      ${f(one.gateway!.p50).padStart(6)}  ${f(one.gateway!.p99).padStart(6)}  ${f((results.chat_json as Record<string, LoadResult>).gateway!.rps, 0).padStart(7)}`);
      console.log(`  strict                                       ${f(strictOne.p50).padStart(6)}  ${f(strictOne.p99).padStart(6)}  ${f(strict50.rps, 0).padStart(7)}`);
      console.log(`  strict/bare at 50 connections: ${f(strict50.rps / bare50.rps, 2)}; added p50 ${f(strictOne.p50 - one.direct!.p50)} p99 ${f(strictOne.p99 - one.direct!.p99)} ms\n`);
      results.strict = { one_in_flight: strictOne, fifty: strict50, ratio: strict50.rps / bare50.rps, load: loadAverage() };
    } finally {
      strict.child.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 300));
      rmSync(strictDir, { recursive: true, force: true });
    }
    if (values.workers) results.workers = await workersScenario({ upstream: upstream.url, duration: DURATION });
    if (values.json) writeFileSync(values.json, JSON.stringify(results, null, 2));
  } finally {
    stopAll();
    await new Promise((r) => setTimeout(r, 500));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
