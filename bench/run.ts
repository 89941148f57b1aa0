/**
 * `npm run bench`: the gateway against a bare undici proxy, both in front of the same local fake
 * upstream, in the same run. The proxies run pinned to core 0; the upstream and this load
 * generator to core 1 (when `taskset` exists). Reports ratios, not absolute numbers.
 *
 * Options: --duration S (autocannon runs, default 10), --requests N (sequential latency runs,
 * default 3000), --json FILE (write the results).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { Pool } from 'undici';
import { microBenchmarks } from './micro.js';

const { values } = parseArgs({
  options: { duration: { type: 'string', default: '10' }, requests: { type: 'string', default: '3000' }, json: { type: 'string' } },
});
const DURATION = Number(values.duration);
const SEQUENTIAL = Number(values.requests);
const KEY = 'omk_bench_key_0123456789abcdef';
const root = new URL('..', import.meta.url).pathname;
const hasTaskset = spawnSync('taskset', ['--version']).status === 0;
if (hasTaskset) spawnSync('taskset', ['-cp', '1', String(process.pid)]);

function start(core: number, args: string[], env: Record<string, string> = {}): Promise<{ child: ChildProcess; url: string }> {
  const [cmd, argv] = hasTaskset ? ['taskset', ['-c', String(core), process.execPath, ...args]] : [process.execPath, args];
  const child = spawn(cmd, argv, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`no start: ${args.join(' ')}\n${out}`)), 20_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const port = /listening (\d+)/.exec(out)?.[1];
      const url = port ? `http://127.0.0.1:${port}` : /OmegaEngine Gateway \S+ on (http:\/\/\S+)/.exec(out)?.[1];
      if (url) {
        clearTimeout(timer);
        resolve({ child, url });
      }
    });
  });
}

const chatBody = (model: string, stream = false) =>
  JSON.stringify({
    model,
    stream,
    messages: [
      { role: 'system', content: 'You are a helpful assistant that answers briefly.' },
      { role: 'user', content: 'Summarise the plot of a short story about a fox and a dog in two sentences, please. '.repeat(8) },
    ],
  });
const headers = { 'content-type': 'application/json', authorization: `Bearer ${KEY}` };

interface LatencyResult {
  p50: number;
  p99: number;
  mean: number;
  rps: number;
}

/** One request in flight, N times: precise per-request latency (autocannon rounds to whole ms). */
async function sequential(url: string, body: string, n: number, firstByteOnly = false): Promise<LatencyResult> {
  const pool = new Pool(url, { connections: 1 });
  const samples: number[] = [];
  const total = n + Math.ceil(n / 10);
  const began = performance.now();
  for (let i = 0; i < total; i++) {
    const t0 = performance.now();
    const res = await pool.request({ path: '/v1/chat/completions', method: 'POST', headers, body });
    if (res.statusCode !== 200) throw new Error(`${url}: HTTP ${res.statusCode} ${await res.body.text()}`);
    let first = 0;
    for await (const _ of res.body) if (!first) first = performance.now() - t0;
    const t = firstByteOnly ? first : performance.now() - t0;
    if (i >= total - n) samples.push(t); // the first tenth warms up the JIT and the pools
  }
  const elapsed = performance.now() - began;
  await pool.close();
  samples.sort((a, b) => a - b);
  return {
    p50: samples[Math.floor(n * 0.5)]!,
    p99: samples[Math.floor(n * 0.99)]!,
    mean: samples.reduce((a, b) => a + b, 0) / n,
    rps: (total / elapsed) * 1000,
  };
}

async function load(url: string, body: string, connections: number): Promise<{ rps: number; p99: number; errors: number }> {
  const result = await autocannon({ url: `${url}/v1/chat/completions`, method: 'POST', headers, body, connections, duration: DURATION });
  return { rps: result.requests.average, p99: result.latency.p99, errors: result.errors + result.non2xx };
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
}

const f = (n: number, d = 3) => n.toFixed(d);

async function main(): Promise<void> {
  const micro = await microBenchmarks();
  console.log(`in-process, mean per request (${micro.request_bytes} B chat request):`);
  console.log(`  policy evaluation (6 rules: PII, secrets, injection, terms, CEL): ${f(micro.policy_evaluate_us!, 1)} µs`);
  console.log(`  input token count (o200k tokenizer):                           ${f(micro.tokenizer_o200k_us!, 1)} µs`);
  console.log(`  rate quotas (3 rules) + budget hold and settle (3 scopes):     ${f(micro.budget_and_limits_us!, 1)} µs\n`);
  const dataDir = mkdtempSync(join(tmpdir(), 'omega-bench-'));
  const tsx = ['--import', 'tsx'];
  const upstream = await start(1, [...tsx, 'bench/upstream.ts']);
  const bare = await start(0, [...tsx, 'bench/bare-proxy.ts', upstream.url]);
  const gateway = await start(0, ['dist/cli/index.js', 'serve', '--config', 'bench/omega.bench.yaml'], {
    BENCH_UPSTREAM: upstream.url,
    BENCH_DATA_DIR: dataDir,
    OMEGA_LOG_LEVEL: 'warn',
  });
  const results: Record<string, unknown> = { micro, date: new Date().toISOString(), node: process.version, pinned: hasTaskset, duration_s: DURATION, sequential_requests: SEQUENTIAL };
  try {
    console.log(`upstream ${upstream.url}, bare proxy ${bare.url}, gateway ${gateway.url}; pinned: ${hasTaskset}\n`);

    const body = chatBody('bench');
    const direct = await sequential(upstream.url, body, SEQUENTIAL);
    const viaBare = await sequential(bare.url, body, SEQUENTIAL);
    const viaGateway = await sequential(gateway.url, body, SEQUENTIAL);
    const added = (r: LatencyResult) => ({ p50: r.p50 - direct.p50, p99: r.p99 - direct.p99 });
    console.log('1 request in flight, 0 ms upstream (ms)        p50     p99    mean   req/s');
    for (const [name, r] of [['direct to upstream', direct], ['bare proxy', viaBare], ['gateway', viaGateway]] as const) {
      console.log(`  ${name.padEnd(44)} ${f(r.p50)}  ${f(r.p99)}  ${f(r.mean)}  ${f(r.rps, 0)}`);
    }
    console.log(`  added latency: bare p50 ${f(added(viaBare).p50)} p99 ${f(added(viaBare).p99)}; gateway p50 ${f(added(viaGateway).p50)} p99 ${f(added(viaGateway).p99)}\n`);
    results.one_in_flight = { direct, bare: viaBare, gateway: viaGateway, added_bare: added(viaBare), added_gateway: added(viaGateway) };

    const bare50 = await load(bare.url, body, 50);
    const gw50 = await load(gateway.url, body, 50);
    const gatewayRss = rssMb(gateway.child.pid!);
    console.log('50 connections, 0 ms upstream                 req/s    p99 ms  errors');
    console.log(`  bare proxy                                  ${f(bare50.rps, 0).padStart(7)}  ${f(bare50.p99, 1).padStart(6)}  ${bare50.errors}`);
    console.log(`  gateway                                     ${f(gw50.rps, 0).padStart(7)}  ${f(gw50.p99, 1).padStart(6)}  ${gw50.errors}`);
    console.log(`  ratio gateway/bare: ${f(gw50.rps / bare50.rps, 2)}; gateway RSS after load: ${f(gatewayRss, 0)} MB\n`);
    results.fifty_connections = { bare: bare50, gateway: gw50, ratio: gw50.rps / bare50.rps, gateway_rss_mb: gatewayRss };

    const streamBody = chatBody('bench', true);
    const bareStream = await load(bare.url, streamBody, 10);
    const gwStream = await load(gateway.url, streamBody, 10);
    const ttfbDirect = await sequential(upstream.url, streamBody, Math.ceil(SEQUENTIAL / 3), true);
    const ttfbBare = await sequential(bare.url, streamBody, Math.ceil(SEQUENTIAL / 3), true);
    const ttfbGateway = await sequential(gateway.url, streamBody, Math.ceil(SEQUENTIAL / 3), true);
    console.log('streaming (22 SSE chunks), 10 connections      req/s    p99 ms  errors');
    console.log(`  bare proxy                                  ${f(bareStream.rps, 0).padStart(7)}  ${f(bareStream.p99, 1).padStart(6)}  ${bareStream.errors}`);
    console.log(`  gateway                                     ${f(gwStream.rps, 0).padStart(7)}  ${f(gwStream.p99, 1).padStart(6)}  ${gwStream.errors}`);
    console.log(`  ratio gateway/bare: ${f(gwStream.rps / bareStream.rps, 2)}`);
    console.log(`  time to first byte, 1 in flight (p50/p99 ms): direct ${f(ttfbDirect.p50)}/${f(ttfbDirect.p99)}, bare ${f(ttfbBare.p50)}/${f(ttfbBare.p99)}, gateway ${f(ttfbGateway.p50)}/${f(ttfbGateway.p99)}\n`);
    results.streaming = { bare: bareStream, gateway: gwStream, ratio: gwStream.rps / bareStream.rps, ttfb: { direct: ttfbDirect, bare: ttfbBare, gateway: ttfbGateway } };
    // Translation cost: the same answer through the gateway in OpenAI format and in Anthropic's.
    const passthrough = await load(gateway.url, body, 50);
    const translated = await load(gateway.url, chatBody('bench-anthropic'), 50);
    const translatedStream = await load(gateway.url, chatBody('bench-anthropic', true), 10);
    console.log('translation, gateway only                     req/s    p99 ms  errors');
    console.log(`  OpenAI passthrough, 50 connections          ${f(passthrough.rps, 0).padStart(7)}  ${f(passthrough.p99, 1).padStart(6)}  ${passthrough.errors}`);
    console.log(`  Anthropic translated, 50 connections        ${f(translated.rps, 0).padStart(7)}  ${f(translated.p99, 1).padStart(6)}  ${translated.errors}`);
    console.log(`  Anthropic translated stream, 10 connections ${f(translatedStream.rps, 0).padStart(7)}  ${f(translatedStream.p99, 1).padStart(6)}  ${translatedStream.errors}`);
    console.log(`  ratio translated/passthrough: ${f(translated.rps / passthrough.rps, 2)}; stream translated/passthrough: ${f(translatedStream.rps / gwStream.rps, 2)}\n`);
    results.translation = { passthrough, translated, translated_stream: translatedStream, ratio: translated.rps / passthrough.rps, stream_ratio: translatedStream.rps / gwStream.rps };
    results.gateway_rss_mb_end = rssMb(gateway.child.pid!);

    // Audit durability: the same gateway with `strict` (decision record committed, fsynced, before forwarding).
    const strictDir = mkdtempSync(join(tmpdir(), 'omega-bench-strict-'));
    const strict = await start(0, ['dist/cli/index.js', 'serve', '--config', 'bench/omega.bench.yaml'], {
      BENCH_UPSTREAM: upstream.url,
      BENCH_DATA_DIR: strictDir,
      BENCH_AUDIT_DURABILITY: 'strict',
      OMEGA_LOG_LEVEL: 'warn',
    });
    try {
      const strictOne = await sequential(strict.url, body, Math.ceil(SEQUENTIAL / 3));
      const strict50 = await load(strict.url, body, 50);
      console.log('audit durability (gateway)                    p50 ms  p99 ms   req/s @50');
      console.log(`  batched                                     ${f(viaGateway.p50).padStart(6)}  ${f(viaGateway.p99).padStart(6)}  ${f(gw50.rps, 0).padStart(7)}`);
      console.log(`  strict (fsync before forwarding)            ${f(strictOne.p50).padStart(6)}  ${f(strictOne.p99).padStart(6)}  ${f(strict50.rps, 0).padStart(7)}\n`);
      results.audit_durability = { batched: { one_in_flight: viaGateway, fifty: gw50 }, strict: { one_in_flight: strictOne, fifty: strict50 } };
    } finally {
      strict.child.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 300));
      rmSync(strictDir, { recursive: true, force: true });
    }
    if (values.json) writeFileSync(values.json, JSON.stringify(results, null, 2));
  } finally {
    for (const p of [gateway, bare, upstream]) p.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 500));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
