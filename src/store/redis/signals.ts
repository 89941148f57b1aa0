/**
 * The signal bus across replicas on Redis pub/sub: one channel per concern under the key prefix
 * (`<prefix>:signal:review.decided`, …). A subscribed connection can do nothing else, so the bus
 * opens its own subscriber and publisher connections. ioredis resubscribes after a reconnect;
 * messages published meanwhile are lost, which the receivers' safety nets cover.
 */
import { Redis } from 'ioredis';
import type { SignalBus, SignalChannel } from '../types.js';

export interface RedisSignalOptions {
  url: string;
  keyPrefix: string;
  /** Told when a connection fails (it keeps retrying). */
  onError?: (err: Error) => void;
}

export class RedisSignalBus implements SignalBus {
  private readonly handlers = new Map<string, Set<(message: string) => void>>();

  private constructor(
    private readonly publisher: Redis,
    private readonly subscriber: Redis,
    private readonly prefix: string,
  ) {
    subscriber.on('message', (channel: string, message: string) => {
      for (const handler of this.handlers.get(channel) ?? []) {
        try {
          handler(message);
        } catch {
          // A receiver's failure must not stop the others; each one logs its own.
        }
      }
    });
  }

  /** Connects both connections; rejects when Redis cannot be reached at start. */
  static async open(options: RedisSignalOptions): Promise<RedisSignalBus> {
    const make = () => new Redis(options.url, { lazyConnect: true, maxRetriesPerRequest: 2, connectionName: 'omega-signals' });
    const publisher = make();
    const subscriber = make();
    for (const c of [publisher, subscriber]) c.on('error', (err: Error) => options.onError?.(err));
    try {
      await Promise.all([publisher.connect(), subscriber.connect()]);
    } catch (err) {
      publisher.disconnect();
      subscriber.disconnect();
      throw err;
    }
    return new RedisSignalBus(publisher, subscriber, options.keyPrefix);
  }

  private name(channel: SignalChannel): string {
    return `${this.prefix}:signal:${channel}`;
  }

  async publish(channel: SignalChannel, message: string): Promise<void> {
    await this.publisher.publish(this.name(channel), message);
  }

  async subscribe(channel: SignalChannel, handler: (message: string) => void): Promise<void> {
    const name = this.name(channel);
    let set = this.handlers.get(name);
    if (!set) {
      this.handlers.set(name, (set = new Set()));
      await this.subscriber.subscribe(name);
    }
    set.add(handler);
  }

  async close(): Promise<void> {
    this.handlers.clear();
    await Promise.allSettled([this.subscriber.quit(), this.publisher.quit()]);
  }
}
