/**
 * Open-loop load: requests start on a fixed schedule (`rate` per second) whether or not earlier
 * ones have finished, and each is timed from its intended start, so a stall shows up as latency
 * of every request scheduled during it (no coordinated omission, unlike a closed loop).
 */
import { Pool } from 'undici';
import type { Shape } from './harness.js';

export interface OpenLoopResult {
  offered: number;
  achieved: number;
  p50: number;
  p99: number;
  max: number;
  errors: number;
  maxInFlight: number;
  /** Requests still unanswered when the run was cut off (counted in the percentiles at their age then). */
  unfinished: number;
}

export async function openLoop(url: string, shape: Shape, rate: number, seconds: number, warmupSeconds = 1): Promise<OpenLoopResult> {
  // Enough connections for rate × latency in flight; beyond that, requests queue in the pool (and count).
  const pool = new Pool(url, { connections: 256, keepAliveTimeout: 30_000 });
  const interval = 1000 / rate;
  const total = Math.round(rate * (seconds + warmupSeconds));
  const warm = Math.round(rate * warmupSeconds);
  const samples: number[] = [];
  const pending: Promise<void>[] = [];
  let errors = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  let lastEnd = 0;
  let unfinishedCut = false;
  const fire = (i: number, intended: number): Promise<void> => {
    inFlight++;
    if (inFlight > maxInFlight) maxInFlight = inFlight;
    return pool
      .request({ path: shape.path, method: 'POST', headers: shape.headers, body: shape.body })
      .then(async (res) => {
        await res.body.text();
        if (res.statusCode !== 200) errors++;
      })
      .catch(() => {
        if (!unfinishedCut) errors++;
      })
      .finally(() => {
        if (unfinishedCut) return;
        inFlight--;
        lastEnd = performance.now();
        if (i >= warm) samples.push(lastEnd - intended);
      });
  };
  const began = performance.now();
  await new Promise<void>((resolve) => {
    let i = 0;
    const tick = () => {
      const now = performance.now();
      // Everything due by now goes out, each stamped with its own scheduled time.
      while (i < total && began + i * interval <= now) {
        pending.push(fire(i, began + i * interval));
        i++;
      }
      if (i < total) setTimeout(tick, 1);
      else resolve();
    };
    tick();
  });
  // Bounded: an overloaded target would otherwise take minutes to drain its queue.
  const cutoff = new Promise<'cut'>((r) => setTimeout(() => r('cut'), (seconds + warmupSeconds) * 1000 + 5_000).unref());
  let unfinished = 0;
  if ((await Promise.race([Promise.all(pending), cutoff])) === 'cut') {
    const now = performance.now();
    unfinished = inFlight;
    unfinishedCut = true;
    for (let i = Math.max(warm, total - inFlight); i < total; i++) samples.push(now - (began + i * interval));
    lastEnd = now;
    await pool.destroy();
  } else await pool.close();
  samples.sort((a, b) => a - b);
  const n = samples.length;
  return {
    offered: rate,
    achieved: ((total - warm - unfinished) / (lastEnd - (began + warm * interval))) * 1000,
    p50: samples[Math.floor(n * 0.5)]!,
    p99: samples[Math.floor(n * 0.99)]!,
    max: samples[n - 1]!,
    errors,
    maxInFlight,
    unfinished,
  };
}
