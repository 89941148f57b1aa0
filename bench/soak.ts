/**
 * `npm run soak`: a long mixed load on loopback against the built gateway
 * (`bench/omega.soak.yaml`), sampling its RSS and latency every SOAK_SAMPLE_SECONDS, to show
 * memory stays flat and latency does not drift. The mix, at a fixed offered rate (open loop,
 * bounded in flight): chat JSON, chat streams, /v1/messages, upstream failures (HTTP 500 from the
 * fake upstream), and refusals — unknown keys (401), an agent over its rate quota (429) and
 * requests the policy blocks (a secret in the prompt, 403).
 *
 * Environment: SOAK_SECONDS (600), SOAK_RATE (requests/s offered, 200), SOAK_WARMUP_SECONDS
 * (60; growth is measured from the first sample after it), SOAK_SAMPLE_SECONDS (10),
 * SOAK_MAX_IN_FLIGHT (64: requests past it are skipped and counted, so a stalled gateway cannot
 * pile up work), SOAK_JSON (write every sample to this file), SOAK_NODE_FLAGS (flags for the gateway's
 * node, e.g. `--heapsnapshot-signal=SIGUSR2` to compare heap snapshots), SOAK_DIST (the built gateway, dist;
 * e.g. a build of an older commit, to compare). Exit code 1 when RSS grew by 5 MB or
 * more after the warm-up. Run `npm run build` first (`npm run soak` does).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { chat, loadAverage, messages, rssMb, start, type Proc, type Shape } from './harness.js';

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const SECONDS = env('SOAK_SECONDS', 600);
const RATE = env('SOAK_RATE', 200);
const WARMUP = Math.min(env('SOAK_WARMUP_SECONDS', 60), SECONDS / 2);
const SAMPLE = env('SOAK_SAMPLE_SECONDS', 10);
const MAX_IN_FLIGHT = env('SOAK_MAX_IN_FLIGHT', 64);
const GROWTH_TARGET_MB = 5;

const withKey = (shape: Shape, key: string): Shape => ({ ...shape, headers: { ...shape.headers, authorization: `Bearer ${key}` } });
const secret = 'ghp_' + 'a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8';
const blocked: Shape = { ...chat('bench'), body: JSON.stringify({ model: 'bench', messages: [{ role: 'user', content: `deploy with token ${secret} please` }] }) };

/** The mix: kind, share of requests, request shape, and the statuses it should get (the limited agent has 30 a minute). */
const MIX: { kind: string; weight: number; shape: Shape; expect: number[] }[] = [
  { kind: 'chat', weight: 45, shape: chat('bench'), expect: [200] },
  { kind: 'stream', weight: 20, shape: chat('bench', true), expect: [200] },
  { kind: 'messages', weight: 10, shape: messages('claude-bench'), expect: [200] },
  { kind: 'upstream-error', weight: 7, shape: chat('bench-failing'), expect: [502] },
  { kind: 'bad-key', weight: 6, shape: withKey(chat('bench'), 'omk_not_a_real_key_0123456789abcdef'), expect: [401] },
  { kind: 'quota', weight: 6, shape: withKey(chat('bench'), 'omk_soak_limited_0123456789abcdef'), expect: [200, 429] },
  { kind: 'policy-block', weight: 6, shape: blocked, expect: [403] },
];
const TOTAL_WEIGHT = MIX.reduce((n, m) => n + m.weight, 0);

interface Sample {
  at_s: number;
  rss_mb: number;
  load: number;
  requests: number;
  skipped: number;
  /** Latency of answered chat JSON requests in this window (ms). */
  chat_p50: number;
  chat_p99: number;
  statuses: Record<string, Record<number, number>>;
}

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'omega-soak-'));
  const procs: Proc[] = [];
  const samples: Sample[] = [];
  let failed = false;
  try {
    const upstream = await start(1, ['--import', 'tsx', 'bench/upstream.ts']);
    procs.push(upstream);
    const nodeFlags = (process.env.SOAK_NODE_FLAGS ?? '').split(' ').filter(Boolean);
    const gw = await start(0, [...nodeFlags, join(process.env.SOAK_DIST ?? 'dist', 'cli/index.js'), 'serve', '--config', 'bench/omega.soak.yaml'], { BENCH_UPSTREAM: upstream.url, BENCH_DATA_DIR: dataDir, BENCH_AUDIT_DURABILITY: 'batched', OMEGA_LOG_LEVEL: 'error' });
    procs.push(gw);
    const pool = new Pool(gw.url, { connections: MAX_IN_FLIGHT });
    console.log(`soak: ${SECONDS} s at ${RATE} req/s offered (warm-up ${WARMUP} s, a sample every ${SAMPLE} s), gateway ${gw.url}, RSS at start ${rssMb(gw.child.pid!).toFixed(1)} MB`);

    let inFlight = 0;
    let window = { requests: 0, skipped: 0, chat: [] as number[], statuses: {} as Sample['statuses'] };
    const send = async (m: (typeof MIX)[number]) => {
      inFlight++;
      const t0 = performance.now();
      let status = 0;
      try {
        const res = await pool.request({ path: m.shape.path, method: 'POST', headers: m.shape.headers, body: m.shape.body });
        status = res.statusCode;
        for await (const _ of res.body); // read to the end (streams included)
      } catch {
        status = -1; // connection error
      } finally {
        inFlight--;
      }
      const w = window;
      w.requests++;
      (w.statuses[m.kind] ??= {})[status] = ((w.statuses[m.kind] ??= {})[status] ?? 0) + 1;
      if (m.kind === 'chat' && status === 200) w.chat.push(performance.now() - t0);
    };
    const pick = () => {
      let r = Math.random() * TOTAL_WEIGHT;
      for (const m of MIX) if ((r -= m.weight) < 0) return m;
      return MIX[0]!;
    };

    const began = performance.now();
    const end = began + SECONDS * 1000;
    let nextSample = began + SAMPLE * 1000;
    let sent = 0;
    // Open loop: request i starts at began + i / RATE, whatever happened before (skipped when too many are in flight).
    while (performance.now() < end) {
      const due = began + (sent / RATE) * 1000;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      sent++;
      if (inFlight >= MAX_IN_FLIGHT) window.skipped++;
      else void send(pick());
      if (performance.now() >= nextSample) {
        const w = window;
        window = { requests: 0, skipped: 0, chat: [], statuses: {} };
        w.chat.sort((a, b) => a - b);
        const s: Sample = { at_s: Math.round((nextSample - began) / 1000), rss_mb: rssMb(gw.child.pid!), load: loadAverage(), requests: w.requests, skipped: w.skipped, chat_p50: percentile(w.chat, 0.5), chat_p99: percentile(w.chat, 0.99), statuses: w.statuses };
        samples.push(s);
        console.log(`  ${String(s.at_s).padStart(5)} s  RSS ${s.rss_mb.toFixed(1).padStart(6)} MB  ${String(s.requests).padStart(5)} answered  ${s.skipped} skipped  chat p50 ${s.chat_p50.toFixed(2)} p99 ${s.chat_p99.toFixed(2)} ms  load ${s.load.toFixed(2)}`);
        nextSample += SAMPLE * 1000;
      }
    }
    while (inFlight > 0) await new Promise((r) => setTimeout(r, 50));
    await pool.close();

    const totals: Record<string, Record<number, number>> = {};
    for (const s of samples) for (const [k, by] of Object.entries(s.statuses)) for (const [st, n] of Object.entries(by)) (totals[k] ??= {})[Number(st)] = (totals[k]?.[Number(st)] ?? 0) + n;
    console.log('\nanswers by kind (status: count; expected status in brackets):');
    for (const m of MIX) console.log(`  ${m.kind.padEnd(15)} [${m.expect.join('/')}] ${Object.entries(totals[m.kind] ?? {}).map(([st, n]) => `${st}: ${n}`).join(', ')}`);

    const after = samples.filter((s) => s.at_s > WARMUP);
    if (after.length >= 2) {
      const first = after[0]!;
      const last = after.at(-1)!;
      const rss = after.map((s) => s.rss_mb);
      // Least-squares slope of RSS over time after the warm-up, in MB per minute.
      const xs = after.map((s) => s.at_s / 60);
      const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
      const my = rss.reduce((a, b) => a + b, 0) / rss.length;
      const slope = xs.reduce((a, x, i) => a + (x - mx) * (rss[i]! - my), 0) / xs.reduce((a, x) => a + (x - mx) ** 2, 0);
      const third = Math.max(1, Math.floor(after.length / 3));
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      const early = after.slice(0, third);
      const late = after.slice(-third);
      const growth = last.rss_mb - first.rss_mb;
      console.log(`\nafter the warm-up (${after.length} samples from ${first.at_s} s):`);
      console.log(`  RSS ${first.rss_mb.toFixed(1)} → ${last.rss_mb.toFixed(1)} MB: growth ${growth.toFixed(1)} MB (min ${Math.min(...rss).toFixed(1)}, max ${Math.max(...rss).toFixed(1)}, trend ${slope.toFixed(2)} MB/min); target < ${GROWTH_TARGET_MB} MB ${growth < GROWTH_TARGET_MB ? 'met' : 'NOT met'}`);
      console.log(`  chat latency, first third → last third (mean of samples): p50 ${mean(early.map((s) => s.chat_p50)).toFixed(2)} → ${mean(late.map((s) => s.chat_p50)).toFixed(2)} ms, p99 ${mean(early.map((s) => s.chat_p99)).toFixed(2)} → ${mean(late.map((s) => s.chat_p99)).toFixed(2)} ms`);
      failed = growth >= GROWTH_TARGET_MB;
    } else {
      console.log(`\nfewer than two samples after the warm-up: raise SOAK_SECONDS above ${WARMUP + 2 * SAMPLE}`);
    }
    const unexpected = MIX.filter((m) => Object.keys(totals[m.kind] ?? {}).some((st) => !m.expect.includes(Number(st))));
    if (unexpected.length > 0) console.log(`  note: unexpected statuses for ${unexpected.map((m) => m.kind).join(', ')} (see above)`);
  } finally {
    for (const p of procs) p.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 2000));
    if (process.env.SOAK_JSON) writeFileSync(process.env.SOAK_JSON, JSON.stringify({ seconds: SECONDS, rate: RATE, warmup_s: WARMUP, samples }, null, 2));
    rmSync(dataDir, { recursive: true, force: true });
  }
  process.exit(failed ? 1 : 0);
}

await main();
