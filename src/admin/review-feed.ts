/**
 * The reviewers' live feed (GET /admin/v1/reviews/events). Review items are created and decided
 * on any replica; each announces the item id on the signal bus (review/queue.ts), and every
 * replica's feed reads the item from the shared store once and sends it to each of its
 * connected followers allowed to see the item's tenant. One subscription per process, made at
 * the first follower.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { ReviewItem, ReviewStore } from '../review/types.js';
import type { SignalBus } from '../store/types.js';
import { canSee, type AdminPrincipal } from './principal.js';
import { reviewView } from './routes/reviews.js';

type ReviewEvent = 'review.created' | 'review.decided';

interface Follower {
  principal: AdminPrincipal;
  send(event: ReviewEvent, item: ReviewItem): void;
  end(): void;
}

/** A comment line this often keeps proxies and load balancers from closing an idle stream. */
const HEARTBEAT_MS = 15_000;

export class ReviewFeed {
  private readonly followers = new Set<Follower>();
  private subscribed: Promise<void> | undefined;

  constructor(
    private readonly store: ReviewStore,
    private readonly signals: SignalBus,
    private readonly log: Pick<Logger, 'warn'>,
  ) {}

  private subscribe(): Promise<void> {
    return (this.subscribed ??= (async () => {
      for (const event of ['review.created', 'review.decided'] as const) {
        await this.signals.subscribe(event, (message) => void this.deliver(event, message));
      }
    })().catch((err: unknown) => {
      this.subscribed = undefined; // the next follower retries
      throw err;
    }));
  }

  private async deliver(event: ReviewEvent, message: string): Promise<void> {
    if (this.followers.size === 0) return;
    let id: unknown;
    try {
      id = (JSON.parse(message) as { id?: unknown }).id;
    } catch {
      return;
    }
    if (typeof id !== 'string') return;
    const item = await this.store.get(id).catch((err: unknown) => this.log.warn({ err, review: id }, 'review feed: reading the item failed'));
    if (!item) return;
    for (const f of this.followers) if (canSee(f.principal, item.tenantId)) f.send(event, item);
  }

  /** Streams events to one follower until it disconnects or the server closes. */
  async follow(principal: AdminPrincipal, request: FastifyRequest, reply: FastifyReply): Promise<void> {
    await this.subscribe();
    const res = reply.raw;
    reply.hijack();
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      'x-request-id': String(request.id),
    });
    res.write(': connected\n\n');
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
    heartbeat.unref();
    const follower: Follower = {
      principal,
      send: (event, item) => {
        // A follower that cannot keep up is not buffered for without bound: it is dropped (and reconnects).
        if (res.writableLength > 1_000_000) return follower.end();
        res.write(`event: ${event}\nid: ${item.id}:${item.status}\ndata: ${JSON.stringify(reviewView(item))}\n\n`);
      },
      end: () => {
        clearInterval(heartbeat);
        this.followers.delete(follower);
        if (!res.writableEnded) res.end();
      },
    };
    this.followers.add(follower);
    request.raw.on('close', follower.end);
    res.on('close', follower.end);
  }

  /** Ends every stream (server shutdown: the streams would otherwise hold it open). */
  close(): void {
    for (const f of [...this.followers]) f.end();
  }
}
