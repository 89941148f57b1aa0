/**
 * The bench's measuring tools: starting the processes (pinned with `taskset` when present),
 * one-in-flight latency with a high-resolution clock, closed-loop load (autocannon, fixed
 * concurrency) and RSS from /proc.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import { Pool } from 'undici';

export const KEY = 'omk_bench_key_0123456789abcdef';
const root = new URL('..', import.meta.url).pathname;
export const hasTaskset = spawnSync('taskset', ['--version']).status === 0;

export interface Proc {
  child: ChildProcess;
  url: string;
}

export function start(core: number, args: string[], env: Record<string, string> = {}): Promise<Proc> {
  const [cmd, argv] = hasTaskset ? ['taskset', ['-c', String(core), process.execPath, ...args]] : [process.execPath, args];
  const child = spawn(cmd, argv, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      reject(new Error(`no start: ${args.join(' ')}\n${out}`));
    }, 30_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited (${code}) before listening: ${args.join(' ')}`));
    });
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

/** A request shape: path, headers and body, as the client API sends it. */
export interface Shape {
  path: string;
  headers: Record<string, string>;
  body: string;
}

const chatHeaders = { 'content-type': 'application/json', authorization: `Bearer ${KEY}` };
const messagesHeaders = { 'content-type': 'application/json', 'x-api-key': KEY, 'anthropic-version': '2023-06-01' };
const userText = 'Summarise the plot of a short story about a fox and a dog in two sentences, please. '.repeat(8);

export const chat = (model: string, stream = false): Shape => ({
  path: '/v1/chat/completions',
  headers: chatHeaders,
  body: JSON.stringify({
    model,
    stream,
    messages: [
      { role: 'system', content: 'You are a helpful assistant that answers briefly.' },
      { role: 'user', content: userText },
    ],
  }),
});

export const messages = (model: string, stream = false): Shape => ({
  path: '/v1/messages',
  headers: messagesHeaders,
  body: JSON.stringify({
    model,
    max_tokens: 256,
    stream,
    system: 'You are a helpful assistant that answers briefly.',
    messages: [{ role: 'user', content: userText }],
  }),
});

export interface LatencyResult {
  p50: number;
  p99: number;
  mean: number;
  rps: number;
}

/** One request in flight, N times: precise per-request latency (autocannon rounds to whole ms). */
export async function sequential(url: string, shape: Shape, n: number, firstByteOnly = false): Promise<LatencyResult> {
  const pool = new Pool(url, { connections: 1 });
  const samples: number[] = [];
  const total = n + Math.ceil(n / 10);
  const began = performance.now();
  for (let i = 0; i < total; i++) {
    const t0 = performance.now();
    const res = await pool.request({ path: shape.path, method: 'POST', headers: shape.headers, body: shape.body });
    if (res.statusCode !== 200) throw new Error(`${url}${shape.path}: HTTP ${res.statusCode} ${await res.body.text()}`);
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

export interface LoadResult {
  rps: number;
  p99: number;
  errors: number;
}

/** Closed loop at a fixed concurrency (never autocannon's `-R` rate mode). */
export async function load(url: string, shape: Shape, connections: number, duration: number): Promise<LoadResult> {
  const result = await autocannon({ url: `${url}${shape.path}`, method: 'POST', headers: shape.headers, body: shape.body, connections, duration });
  return { rps: result.requests.average, p99: result.latency.p99, errors: result.errors + result.non2xx };
}

export function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
}

/** The 1-minute load average, noted with every figure: other work on the machine moves them. */
export function loadAverage(): number {
  return Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
}
