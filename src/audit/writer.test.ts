import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TrailRecord } from './admin-event.js';
import { InProcessAuditWriter } from './writer.js';

const quiet = { error() {}, warn() {}, debug() {} };
const record = (i: number) => ({ decision_id: `dec_${i}`, kind: 'request', tenant_id: 'acme' }) as unknown as TrailRecord;

/** A sink that records each call and refuses once `failAt` records have been committed. */
function sink(failAt = Infinity) {
  const calls: string[][] = [];
  const stored: string[] = [];
  return {
    calls,
    stored,
    failAt,
    async append(records: readonly TrailRecord[]) {
      calls.push(records.map((r) => r.decision_id));
      if (stored.length + records.length > this.failAt) throw new Error('store down');
      for (const r of records) stored.push(r.decision_id);
    },
  };
}

describe('in-process audit writer: group commits in slices', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'omega-writer-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('commits a batch in slices of sliceSize, in order, yielding to the event loop between them', async () => {
    const s = sink();
    const w = new InProcessAuditWriter(s as never, { flushIntervalMs: 60_000, batchSize: 1000, spoolFile: join(dir, 'spool'), sliceSize: 16 }, quiet);
    for (let i = 0; i < 40; i++) w.append(record(i));
    const flushed = w.flush();
    await new Promise((r) => setImmediate(r));
    expect(s.stored.length).toBeLessThan(40); // not all in one synchronous go
    await flushed;
    expect(s.calls.map((c) => c.length)).toEqual([16, 16, 8]);
    expect(s.stored).toEqual(Array.from({ length: 40 }, (_, i) => `dec_${i}`));
    expect(w.pending).toBe(0);
    await w.close();
  });

  it('spools only the slices the store refused, and replays them once without storing any twice', async () => {
    const s = sink(20);
    const spool = join(dir, 'spool');
    const w = new InProcessAuditWriter(s as never, { flushIntervalMs: 60_000, batchSize: 1000, spoolFile: spool, sliceSize: 16 }, quiet);
    for (let i = 0; i < 40; i++) w.append(record(i));
    await w.flush();
    expect(s.stored).toHaveLength(16);
    expect(w.spooled).toBe(24);
    expect(readFileSync(spool, 'utf8').trim().split('\n').map((l) => JSON.parse(l).decision_id)[0]).toBe('dec_16');
    // Partly back: the replay gets one slice in, keeps the rest for the next flush.
    s.failAt = 32;
    await w.flush();
    expect(s.stored).toHaveLength(32);
    expect(w.spooled).toBe(8);
    s.failAt = Infinity;
    await w.flush();
    expect(w.spooled).toBe(0);
    expect(s.stored).toEqual(Array.from({ length: 40 }, (_, i) => `dec_${i}`));
    await w.close();
  });

  it('without sliceSize commits the whole batch in one call', async () => {
    const s = sink();
    const w = new InProcessAuditWriter(s as never, { flushIntervalMs: 60_000, batchSize: 1000, spoolFile: join(dir, 'spool') }, quiet);
    for (let i = 0; i < 40; i++) w.append(record(i));
    await w.flush();
    expect(s.calls.map((c) => c.length)).toEqual([40]);
    await w.close();
  });
});
