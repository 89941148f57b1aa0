/**
 * Audit sampling for refusals of unauthenticated requests (bad keys, unknown paths, malformed
 * requests): per client IP, the first `sample` refusals of each interval get their own audit
 * record; the rest are counted, and one record per interval (the latest refusal's) stands for
 * them, its `refusals_summarised` saying how many. A loop of bad requests thus writes a bounded
 * number of rows. Memory is bounded by `maxTracked` client IPs, the oldest flushed first.
 */
import type { RequestContext } from '../pipeline/context.js';

export interface RefusalSamplerOptions {
  sample: number;
  intervalMs: number;
  maxTracked: number;
}

interface Window {
  start: number;
  seen: number;
  suppressed: number;
  /** The latest suppressed refusal, written as the summary when the window ends. */
  latest: RequestContext | undefined;
}

export class RefusalSampler {
  private readonly windows = new Map<string, Window>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly options: RefusalSamplerOptions,
    /** Writes one context's audit record. */
    private readonly write: (ctx: RequestContext) => void,
    private readonly now: () => number = Date.now,
  ) {
    this.timer = setInterval(() => this.flush(false), Math.max(1000, Math.min(options.intervalMs, 60_000)));
    this.timer.unref();
  }

  /** Audits `ctx` now, or counts it into its IP's summary. */
  record(ctx: RequestContext): void {
    const now = this.now();
    const ip = ctx.clientIp;
    let w = this.windows.get(ip);
    if (w && now - w.start >= this.options.intervalMs) {
      this.summarise(w);
      this.windows.delete(ip);
      w = undefined;
    }
    if (!w) {
      if (this.windows.size >= this.options.maxTracked) {
        const [oldestIp, oldest] = this.windows.entries().next().value!;
        this.summarise(oldest);
        this.windows.delete(oldestIp);
      }
      w = { start: now, seen: 0, suppressed: 0, latest: undefined };
      this.windows.set(ip, w);
    }
    w.seen++;
    if (w.seen <= this.options.sample) {
      this.write(ctx);
      return;
    }
    w.suppressed++;
    // The context stands for the refusal until the summary is written; nothing else audits it.
    ctx.audited = true;
    w.latest = ctx;
  }

  /** Writes the summaries of ended windows (all of them when `all`, e.g. at shutdown). */
  flush(all: boolean): void {
    const now = this.now();
    for (const [ip, w] of this.windows) {
      if (!all && now - w.start < this.options.intervalMs) continue;
      this.summarise(w);
      this.windows.delete(ip);
    }
  }

  close(): void {
    clearInterval(this.timer);
    this.flush(true);
  }

  private summarise(w: Window): void {
    if (!w.latest || w.suppressed === 0) return;
    const ctx = w.latest;
    w.latest = undefined;
    ctx.refusalsSummarised = w.suppressed;
    ctx.audited = false;
    this.write(ctx);
  }
}
