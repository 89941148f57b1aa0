/**
 * `omega serve --workers N` with Redis: one worker against two, the same configuration
 * (bench/omega.bench.yaml plus `redis`, on a fresh key prefix), the same closed loop; and the
 * Redis round trips per request, counted with Redis MONITOR over sequential requests (commands
 * sent by the gateway on its prefix; the commands a script runs inside Redis are not round trips).
 * The gateway processes are not pinned here (two workers need both cores): the upstream and the
 * load generator share those cores, so the gain of the second worker is bounded by them.
 *
 * Run alone: `npm run bench -- --workers-only` (or `--workers` to append it to the full run).
 * BENCH_REDIS_URL overrides redis://127.0.0.1:6379.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { chat, hasTaskset, load, loadAverage, sequential } from './harness.js';

export interface WorkersResult {
  workers: number;
  rps: number;
  p99: number;
  errors: number;
  /** Redis commands the gateway sent per request (quotas and budget: admission + settlement). */
  redis_round_trips_per_request: number;
  load: number;
}

const ROOT = join(import.meta.dirname, '..');
const ROUND_TRIP_SAMPLE = 200;
/** harness.sequential sends a tenth more as its own warm-up: every one of them is watched. */
const ROUND_TRIP_REQUESTS = ROUND_TRIP_SAMPLE + Math.ceil(ROUND_TRIP_SAMPLE / 10);

/** Starts `omega serve --workers N`; resolves once every worker printed its banner. */
function serveWorkers(configFile: string, workers: number, env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  const argv = ['dist/cli/index.js', 'serve', '--config', configFile, '--workers', String(workers)];
  // run.ts pins itself (and so its children) to core 1: the workers get both cores back.
  const [cmd, args] = hasTaskset ? ['taskset', ['-c', '0-1', process.execPath, ...argv]] : [process.execPath, argv];
  const child = spawn(cmd, args, {
    cwd: ROOT,
    env: { ...process.env, ...env, OMEGA_LOG_LEVEL: 'warn', OMEGA_INSTANCE: 'bench' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      reject(new Error(`--workers ${workers}: not all workers listening after 60 s\n${out}`));
    }, 60_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`--workers ${workers} exited (${code}) before listening`));
    });
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const urls = [...out.matchAll(/OmegaEngine Gateway \S+ on (http:\/\/\S+)/g)].map((m) => m[1]!);
      if (urls.length >= workers) {
        clearTimeout(timer);
        child.removeAllListeners('exit');
        resolve({ child, url: urls[0]! });
      }
    });
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

/** Redis commands carrying `prefix` that clients sent while `work` ran, per request. */
async function roundTripsPerRequest(redisUrl: string, prefix: string, requests: number, work: () => Promise<unknown>): Promise<{ perRequest: number; byCommand: Record<string, number> }> {
  const monitor = await new Redis(redisUrl).monitor();
  let commands = 0;
  const byCommand: Record<string, number> = {};
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    if (source !== 'lua' && args.some((a) => a.includes(prefix))) {
      commands++;
      const name = `${args[0]!.toLowerCase()}${args[0]!.toLowerCase() === 'evalsha' ? ` ${args[1]!.slice(0, 8)}` : ''}`;
      byCommand[name] = (byCommand[name] ?? 0) + 1;
    }
  });
  try {
    await work();
    await new Promise((r) => setTimeout(r, 500)); // MONITOR lines arrive after the replies
  } finally {
    monitor.disconnect();
  }
  return { perRequest: commands / requests, byCommand };
}

/**
 * @example
 * const results = await workersScenario({ upstream: 'http://127.0.0.1:9000', duration: 8 });
 */
export async function workersScenario(o: { upstream: string; duration: number; connections?: number; redisUrl?: string; counts?: number[] }): Promise<WorkersResult[]> {
  const redisUrl = o.redisUrl ?? process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
  const connections = o.connections ?? 50;
  const base = readFileSync(join(ROOT, 'bench/omega.bench.yaml'), 'utf8');
  const results: WorkersResult[] = [];
  const f = (n: number, d = 2) => n.toFixed(d);
  console.log(`omega serve --workers N with Redis (${redisUrl}), chat JSON, ${connections} connections, 0 ms upstream   (load ${f(loadAverage())})`);
  for (const workers of o.counts ?? [1, 2]) {
    const dir = mkdtempSync(join(tmpdir(), 'omega-bench-workers-'));
    const prefix = `bench-workers-${randomBytes(4).toString('hex')}`;
    const configFile = join(dir, 'omega.yaml');
    writeFileSync(configFile, `${base}\nredis: { url: "${redisUrl}", key_prefix: "${prefix}" }\n`);
    const { child, url } = await serveWorkers(configFile, workers, { BENCH_UPSTREAM: o.upstream, BENCH_DATA_DIR: dir, BENCH_AUDIT_DURABILITY: 'batched' });
    try {
      const body = chat('bench');
      await sequential(url, body, 20); // warm-up: scripts loaded, tokenizers hot, on every worker
      const { perRequest, byCommand } = await roundTripsPerRequest(redisUrl, prefix, ROUND_TRIP_REQUESTS, () => sequential(url, body, ROUND_TRIP_SAMPLE));
      const r = await load(url, body, connections, o.duration);
      const result = { workers, rps: r.rps, p99: r.p99, errors: r.errors, redis_round_trips_per_request: perRequest, load: loadAverage() };
      results.push(result);
      console.log(`  ${String(workers).padStart(2)} worker${workers > 1 ? 's' : ' '}  ${f(r.rps, 0).padStart(7)} req/s  p99 ${f(r.p99, 1).padStart(6)} ms  errors ${r.errors}  Redis round trips/request ${f(perRequest)} (${Object.entries(byCommand).map(([c, n]) => `${c} ${f(n / ROUND_TRIP_REQUESTS)}`).join(', ')})   (load ${f(result.load)})`);
    } finally {
      await stop(child);
      const redis = new Redis(redisUrl);
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `{${prefix}}*`, 'COUNT', 500);
        cursor = next;
        if (keys.length > 0) await redis.del(...keys);
      } while (cursor !== '0');
      redis.disconnect();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  if (results.length === 2) console.log(`  two workers / one: ${f(results[1]!.rps / results[0]!.rps)} (the upstream and the load generator share the same two cores)\n`);
  return results;
}
