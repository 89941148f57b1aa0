import { describe, expect, it } from 'vitest';
import { RequestContext } from '../pipeline/context.js';
import { RefusalSampler } from './refusal-sampler.js';

const ctx = (ip: string) => new RequestContext('req_1', '/v1/chat/completions', 'POST', ip, null, null);

describe('RefusalSampler', () => {
  it('writes the first `sample` per IP per interval, then one summary standing for the rest', () => {
    let now = 0;
    const written: RequestContext[] = [];
    const s = new RefusalSampler({ sample: 2, intervalMs: 1000, maxTracked: 10 }, (c) => written.push(c), () => now);
    const all = Array.from({ length: 7 }, () => ctx('1.1.1.1'));
    for (const c of all) s.record(c);
    s.record(ctx('2.2.2.2'));
    expect(written.map((c) => c.clientIp)).toEqual(['1.1.1.1', '1.1.1.1', '2.2.2.2']);
    expect(all.slice(2).every((c) => c.audited)).toBe(true);
    now = 1000;
    s.flush(false);
    expect(written).toHaveLength(4);
    expect(written[3]).toBe(all[6]);
    expect(written[3]!.refusalsSummarised).toBe(5);
    // A new interval starts afresh.
    s.record(ctx('1.1.1.1'));
    expect(written).toHaveLength(5);
    expect(written[4]!.refusalsSummarised).toBeNull();
    s.close();
  });

  it('summarises what is pending at close, and bounds the IPs it tracks', () => {
    const written: RequestContext[] = [];
    const s = new RefusalSampler({ sample: 0, intervalMs: 60_000, maxTracked: 3 }, (c) => written.push(c), () => 0);
    for (let i = 0; i < 10; i++) s.record(ctx(`10.0.0.${i}`));
    // Each eviction wrote the evicted IP's summary.
    expect(written.map((c) => c.clientIp)).toEqual(['10.0.0.0', '10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5', '10.0.0.6']);
    s.close();
    expect(written).toHaveLength(10);
    expect(written.every((c) => c.refusalsSummarised === 1)).toBe(true);
  });
});
