import { describe, expect, it } from 'vitest';
import { TrafficShaper } from './traffic-shaper.js';

const never = new AbortController().signal;

describe('traffic shaper', () => {
  it('queues past the concurrency cap and hands slots over in order', async () => {
    const s = new TrafficShaper({ concurrency: 2, queue_timeout: 1000 });
    expect(await s.acquire(1, never)).toBe(true);
    expect(await s.acquire(1, never)).toBe(true);
    const order: number[] = [];
    const third = s.acquire(1, never).then((ok) => order.push(3) && ok);
    const fourth = s.acquire(1, never).then((ok) => order.push(4) && ok);
    expect(s.queued).toBe(2);
    s.release();
    s.release();
    expect(await third).toBeTruthy();
    expect(await fourth).toBeTruthy();
    expect(order).toEqual([3, 4]);
    expect(s.inFlight).toBe(2);
  });

  it('gives up after queue_timeout', async () => {
    const s = new TrafficShaper({ concurrency: 1, queue_timeout: 30 });
    await s.acquire(1, never);
    const started = Date.now();
    expect(await s.acquire(1, never)).toBe(false);
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
    expect(s.queued).toBe(0);
  });

  it('paces requests beyond the rpm burst instead of refusing them', async () => {
    // 600 rpm: a burst of 100 (ten seconds' worth) passes, then one every 100 ms.
    const s = new TrafficShaper({ rpm: 600, queue_timeout: 500 });
    // Timed from the start of the burst: 101 requests cannot all pass within 100 ms of it, however
    // slowly the first 100 went through (time spent on them refills the bucket).
    const started = Date.now();
    for (let i = 0; i < 100; i++) {
      expect(await s.acquire(1, never)).toBe(true);
      s.release();
    }
    expect(await s.acquire(1, never)).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
  });

  it('refuses when the token budget cannot refill within the queue timeout', async () => {
    const s = new TrafficShaper({ tpm: 6000, queue_timeout: 50 }); // bucket of 1000 tokens, 0.1 token/ms
    expect(await s.acquire(1000, never)).toBe(true);
    s.release();
    expect(await s.acquire(500, never)).toBe(false);
    expect(s.inFlight).toBe(0);
  });

  it('stops waiting when the request is aborted', async () => {
    const s = new TrafficShaper({ concurrency: 1, queue_timeout: 5000 });
    await s.acquire(1, never);
    const abort = new AbortController();
    const waiting = s.acquire(1, abort.signal);
    abort.abort(new Error('client gone'));
    await expect(waiting).rejects.toThrow('client gone');
    expect(s.queued).toBe(0);
  });

  it('takes a free slot without waiting, and says so when the caller must queue', () => {
    const s = new TrafficShaper({ concurrency: 1, queue_timeout: 100 });
    expect(s.tryAcquireNow(10)).toBe(true);
    expect(s.tryAcquireNow(10)).toBe(false);
    expect(s.inFlight).toBe(1);
    s.release();
    expect(new TrafficShaper({ queue_timeout: 0 }).tryAcquireNow(1_000_000)).toBe(true);
  });
});
