/**
 * The configuration in force, as one immutable snapshot: the effective config (the file merged
 * with entities managed through the admin API) and everything derived from it that requests
 * read — the key directory and the route table (models, aliases, providers and their
 * credentials; tenants with their budgets, quotas and policy names travel on the principal).
 *
 * A request reads `holder.current` once, when it is authenticated, and keeps that reference to
 * the end, so a reload never changes the rules under a request in flight. A reload builds the
 * next snapshot off to the side and swaps it in with one assignment.
 */
import type { KeyDirectory } from '../auth/directory.js';
import type { RouteTable } from '../pipeline/select-route.js';
import type { GatewayConfig } from './load.js';

export interface ConfigSnapshot {
  /** The effective configuration: the file, plus the admin API's entities (docs/configuration.md, "Precedence"). */
  readonly config: GatewayConfig;
  readonly keys: KeyDirectory;
  readonly routes: RouteTable;
  /** `config_version` of audit records: the file's content hash, `+r<N>` when the entity store's revision N adds to it. */
  readonly version: string;
}

/** What readers need: the snapshot in force now. */
export interface SnapshotSource {
  readonly current: ConfigSnapshot;
}

export type SwapListener = (next: ConfigSnapshot, previous: ConfigSnapshot) => void;

/** Holds the snapshot in force; `swap` replaces it atomically (one reference assignment). */
export class ConfigHolder implements SnapshotSource {
  private snapshot: ConfigSnapshot;
  private readonly listeners: SwapListener[] = [];
  private swaps = 0;

  constructor(initial: ConfigSnapshot) {
    this.snapshot = initial;
  }

  get current(): ConfigSnapshot {
    return this.snapshot;
  }

  /** How many times a snapshot was swapped in since start (tests, /readyz). */
  get generation(): number {
    return this.swaps;
  }

  swap(next: ConfigSnapshot): void {
    const previous = this.snapshot;
    this.snapshot = next;
    this.swaps++;
    for (const listener of this.listeners) listener(next, previous);
  }

  /** Called after every swap (e.g. the scrubber learns new credentials, tokenizers preload). */
  onSwap(listener: SwapListener): void {
    this.listeners.push(listener);
  }
}
