/**
 * The runtime configuration: builds snapshots (config/snapshot.ts) and swaps them in when
 * something changes — the deployment file (SIGHUP, a file watcher, `omega config apply`, POST
 * /admin/v1/config/reload) or an entity changed through the admin API on any replica (announced
 * on the signal bus as `config.changed`, with a periodic resync as the safety net).
 *
 * Every reload is all or nothing: the next snapshot is built and checked off to the side; a
 * broken file or an invalid result is logged and the snapshot in force stays. Reloads run one
 * at a time, and a burst of triggers costs one extra reload, not one each.
 */
import type { StoreAvailability } from '../store/availability.js';
import { createHash } from 'node:crypto';
import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Logger } from 'pino';
import { KeyDirectory } from '../auth/directory.js';
import { compilePolicy, type CompiledPolicy } from '../policy/compile.js';
import type { PolicySet } from '../policy/inheritance.js';
import { RouteTable } from '../pipeline/select-route.js';
import { GatewayError } from '../errors.js';
import type { ConfigStore, KeyStore, PolicyStore, SealedCredential, SignalBus, StoredEntity } from '../store/types.js';
import { ConfigError, loadConfigFile, type GatewayConfig } from './load.js';
import { ConfigHolder, type ConfigSnapshot } from './snapshot.js';

type Env = Record<string, string | undefined>;

/**
 * Adds what the admin API manages to the file's configuration (config/entities.ts). Returns
 * the effective configuration and the store revision it reflects.
 */
export interface EntityMerger {
  merge(file: GatewayConfig): Promise<{ config: GatewayConfig; revision: number }>;
}

/** The entity store with its merger: what admin writes go through (config/entities.ts). */
export interface EntityWrites extends EntityMerger {
  readonly store: ConfigStore;
  mergeLoaded(file: GatewayConfig, entities: readonly StoredEntity[], credentials: readonly SealedCredential[]): GatewayConfig;
}

export type StoredState = { entities: StoredEntity[]; credentials: SealedCredential[] };

/** Sections read once at start: a reload that changes them logs that a restart is needed. */
export const RESTART_ONLY_SECTIONS = ['server', 'storage', 'audit', 'admin', 'keys', 'mcp_servers', 'telemetry', 'budgets', 'redis', 'rate_limiting', 'routing', 'responses', 'alerts'] as const;

/** How long file events are collected before one reload (editors write a file in several steps). */
export const FILE_DEBOUNCE_MS = 250;
/** The longest a replica misses an entity change whose announcement was lost (no Redis, or a dropped message). */
export const ENTITY_RESYNC_MS = 5_000;

export type ReloadResult = { applied: true; version: string; changed: boolean } | { applied: false; version: string; problems: string[] };

export interface RuntimeConfigOptions {
  /** The configuration read at start (its `source` is the file reloads re-read, unless '<inline>'). */
  initial: GatewayConfig;
  /** Variables for `${ENV}` interpolation on reload (main.ts passes process.env). */
  env: Env;
  keyStore: KeyStore;
  policies: PolicySet;
  /** Stored policy versions win over the file's (see policy/sync.ts): a reload does not replace them. */
  policyStore: Pick<PolicyStore, 'latest'>;
  signals: SignalBus;
  logger: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** Providers' API roots known only at start (the demo upstream). */
  baseUrls?: Readonly<Record<string, string>>;
  entities?: EntityWrites;
  resyncMs?: number;
  /** The store's degraded mode (storage.on_unavailable), for key lookups during an outage. */
  storage?: Pick<StoreAvailability, 'decide'>;
}

export class RuntimeConfig {
  readonly holder: ConfigHolder;
  /** The last deployment file that loaded; entity changes are merged into it. */
  private file: GatewayConfig;
  private fileHash: string | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private pending: Promise<ReloadResult> | undefined;
  private watcher: FSWatcher | undefined;
  private debounce: ReturnType<typeof setTimeout> | undefined;
  private resync: ReturnType<typeof setInterval> | undefined;
  private revision = 0;

  private constructor(
    private readonly options: RuntimeConfigOptions,
    first: ConfigSnapshot,
    revision: number,
  ) {
    this.file = options.initial;
    this.fileHash = hashOf(options.initial.source);
    this.revision = revision;
    this.holder = new ConfigHolder(first);
  }

  /** Builds the first snapshot (the file plus stored entities). */
  static async open(options: RuntimeConfigOptions): Promise<RuntimeConfig> {
    let merged = { config: options.initial, revision: 0 };
    try {
      if (options.entities) merged = await options.entities.merge(options.initial);
    } catch (err) {
      // The gateway still starts, on the file alone: refusing to start would take every tenant down for one bad entity.
      if (!(err instanceof ConfigError)) throw err;
      options.logger.error({ problems: err.problems }, 'the stored entities do not fit the configuration file; starting with the file alone until they are fixed');
    }
    const snapshot = build(merged.config, merged.revision, options, undefined);
    return new RuntimeConfig(options, snapshot, merged.revision);
  }

  /** The deployment file in force (without entities): what decides `managed_by`. */
  get fileConfig(): GatewayConfig {
    return this.file;
  }

  /**
   * An admin write: `change` edits the stored state as it would be after the write; the result
   * is merged with the file and checked first (400 invalid_request naming the problems when it
   * does not check), then `commit` writes it, this replica swaps the new snapshot in before the
   * call returns, and every other replica is told.
   */
  async write(change: (state: StoredState) => void, commit: (store: ConfigStore) => Promise<unknown>): Promise<ReloadResult> {
    const entities = this.options.entities;
    if (!entities) throw new GatewayError('internal_error', 'This gateway has no entity store.');
    const loaded = await entities.store.load();
    const state: StoredState = { entities: loaded.entities, credentials: loaded.credentials };
    change(state);
    try {
      entities.mergeLoaded(this.file, state.entities, state.credentials);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      throw new GatewayError('invalid_request', `The change does not fit the configuration: ${err.problems.join('; ')}`.slice(0, 1000));
    }
    await commit(entities.store);
    const result = await this.refresh('admin api');
    await this.announce();
    return result;
  }

  /** The file the gateway reloads, or undefined when the configuration was given inline. */
  get source(): string | undefined {
    return this.file.source === '<inline>' ? undefined : this.file.source;
  }

  /**
   * Re-reads the deployment file and the entity store and swaps the result in. A file that does
   * not load (or a merged result that does not check) is refused: logged, reported, and the
   * snapshot in force stays.
   */
  reloadFile(reason: string): Promise<ReloadResult> {
    return this.serialized(async () => {
      const source = this.source;
      if (!source) return this.refreshNow(reason);
      let next: GatewayConfig;
      try {
        next = loadConfigFile(source, this.options.env);
      } catch (err) {
        const problems = err instanceof ConfigError ? err.problems : [String((err as Error).message ?? err)];
        this.options.logger.error({ reason, source, problems }, 'configuration reload refused: the file does not load; the configuration in force stays');
        return { applied: false, version: this.holder.current.version, problems };
      }
      const restart = RESTART_ONLY_SECTIONS.filter((s) => JSON.stringify(next[s]) !== JSON.stringify(this.options.initial[s]));
      if (restart.length > 0) this.options.logger.warn({ sections: restart }, 'the reloaded file changes sections read only at start; they take effect at the next restart');
      const result = await this.apply(next, reason);
      if (result.applied) {
        this.file = next;
        this.fileHash = hashOf(source);
      }
      return result;
    });
  }

  /** Re-reads the entity store only (an admin API change here or on another replica). */
  refresh(reason: string): Promise<ReloadResult> {
    // Collapses a burst: while one refresh waits its turn, more triggers join it.
    return (this.pending ??= this.serialized(() => {
      this.pending = undefined;
      return this.refreshNow(reason);
    }));
  }

  private refreshNow(reason: string): Promise<ReloadResult> {
    return this.apply(this.file, reason);
  }

  private async apply(file: GatewayConfig, reason: string): Promise<ReloadResult> {
    const { options } = this;
    try {
      const merged = options.entities ? await options.entities.merge(file) : { config: file, revision: 0 };
      const policies = await this.filePolicies(merged.config);
      const previous = this.holder.current;
      const snapshot = build(merged.config, merged.revision, options, previous);
      if (snapshot.version === previous.version && merged.revision === this.revision) return { applied: true, version: previous.version, changed: false };
      for (const p of policies) options.policies.setFromFile(p);
      this.revision = merged.revision;
      this.holder.swap(snapshot);
      options.logger.info({ reason, version: snapshot.version }, 'configuration reloaded');
      return { applied: true, version: snapshot.version, changed: true };
    } catch (err) {
      const problems = err instanceof ConfigError ? err.problems : [(err as Error).message];
      options.logger.error({ reason, problems }, 'configuration reload refused; the configuration in force stays');
      return { applied: false, version: this.holder.current.version, problems };
    }
  }

  /**
   * The file's policies that a reload installs: compiled first (a bad rule refuses the whole
   * reload), skipping names with a stored version (the admin API's version wins).
   */
  private async filePolicies(config: GatewayConfig): Promise<CompiledPolicy[]> {
    const stored = new Set((await this.options.policyStore.latest()).map((p) => p.name));
    const out: CompiledPolicy[] = [];
    const problems: string[] = [];
    for (const [name, policy] of Object.entries(config.policies)) {
      if (stored.has(name)) continue;
      try {
        out.push(compilePolicy(name, policy));
      } catch (err) {
        problems.push(`policies.${name}: ${(err as Error).message}`);
      }
    }
    if (problems.length > 0) throw new ConfigError(config.source, problems);
    return out;
  }

  private serialized<T>(run: () => Promise<T>): Promise<T> {
    const next = this.queue.then(run, run);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /**
   * Reloads when the file changes. The directory is watched, not the file: editors and
   * Kubernetes ConfigMaps replace the file (rename, symlink swap), which a file watch misses.
   * Events are debounced, and a reload happens only when the file's bytes changed.
   */
  watchFile(debounceMs = FILE_DEBOUNCE_MS): void {
    const source = this.source;
    if (!source || this.watcher) return;
    const name = basename(source);
    this.watcher = watch(dirname(source), (_event, changed) => {
      // Names starting with `..` are a ConfigMap's data links; anything else is another file.
      if (changed && changed !== name && !String(changed).startsWith('..')) return;
      clearTimeout(this.debounce);
      this.debounce = setTimeout(() => {
        if (hashOf(source) === this.fileHash) return;
        void this.reloadFile('file changed');
      }, debounceMs);
    });
    this.watcher.on('error', (err) => this.options.logger.warn({ err }, 'watching the configuration file failed; reload with SIGHUP'));
    this.watcher.unref();
  }

  /** Follows changes announced by any replica, revocations of keys, and resyncs as a safety net. */
  async listen(): Promise<void> {
    const { signals, logger } = this.options;
    await signals.subscribe('config.changed', (message) => {
      let file = false;
      try {
        file = (JSON.parse(message) as { file?: unknown }).file === true;
      } catch {
        // A malformed message still means "something changed".
      }
      void (file ? this.reloadFile('announced') : this.refresh('announced'));
    });
    await signals.subscribe('key.revoked', (message) => {
      try {
        const id = (JSON.parse(message) as { id?: unknown }).id;
        if (typeof id === 'string') this.holder.current.keys.forget(id);
      } catch {
        // Not ours to act on: a malformed message changes nothing.
      }
    });
    const entities = this.options.entities;
    if (entities) {
      // One cheap read per interval; the whole store is read only when the revision moved.
      const resync = async () => {
        if ((await entities.store.revision()) !== this.revision) await this.refresh('resync');
      };
      this.resync = setInterval(() => void resync().catch((err: unknown) => logger.warn({ err }, 'configuration resync failed')), this.options.resyncMs ?? ENTITY_RESYNC_MS);
      this.resync.unref();
    }
  }

  /** Tells every replica (this one too) to re-read the entity store, or with `file` their deployment files as well. */
  async announce(what: { file?: boolean } = {}): Promise<void> {
    await this.options.signals.publish('config.changed', JSON.stringify({ file: what.file === true, at: Date.now() })).catch((err: unknown) =>
      this.options.logger.warn({ err }, 'announcing a configuration change failed; other replicas apply it at their next resync'),
    );
  }

  /** A runtime key was revoked: this replica forgets it now, the others when the announcement arrives (else within keys.cache_ttl). */
  async keyRevoked(id: string): Promise<void> {
    this.holder.current.keys.forget(id);
    await this.options.signals.publish('key.revoked', JSON.stringify({ id })).catch((err: unknown) => this.options.logger.warn({ err }, 'announcing a key revocation failed; other replicas stop accepting it within keys.cache_ttl'));
  }

  close(): void {
    clearTimeout(this.debounce);
    clearInterval(this.resync);
    this.watcher?.close();
  }
}

/** A snapshot of `config`; carries circuit state over from `previous` where providers are unchanged. */
function build(config: GatewayConfig, revision: number, options: RuntimeConfigOptions, previous: ConfigSnapshot | undefined): ConfigSnapshot {
  return {
    config,
    keys: new KeyDirectory(config, options.keyStore, Date.now, options.storage),
    routes: new RouteTable(config, options.baseUrls, previous?.routes),
    version: revision > 0 ? `${config.version}+r${revision}` : config.version,
  };
}

function hashOf(file: string): string | undefined {
  try {
    return createHash('sha256').update(readFileSync(file)).digest('hex');
  } catch {
    return undefined;
  }
}
