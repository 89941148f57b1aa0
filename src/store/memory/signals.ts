/** The signal bus of a single process: handlers run on a later tick, as they would from Redis. */
import type { SignalBus, SignalChannel } from '../types.js';

export class MemorySignalBus implements SignalBus {
  private readonly handlers = new Map<SignalChannel, Set<(message: string) => void>>();

  async publish(channel: SignalChannel, message: string): Promise<void> {
    for (const handler of this.handlers.get(channel) ?? []) setImmediate(handler, message);
  }

  async subscribe(channel: SignalChannel, handler: (message: string) => void): Promise<void> {
    let set = this.handlers.get(channel);
    if (!set) this.handlers.set(channel, (set = new Set()));
    set.add(handler);
  }

  async close(): Promise<void> {
    this.handlers.clear();
  }
}
