/**
 * Composition root and the one reader of process.env: loads the configuration, opens the
 * stores, builds the pipeline's dependencies, listens, and shuts down in order (stop accepting,
 * drain in-flight requests, flush the audit, close the store).
 */
import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { buildApp, type GatewayDeps } from './app.js';
import type { GatewayIdentity } from './audit/record.js';
import { InProcessAuditWriter, type AuditWriter } from './audit/writer.js';
import { ThreadedAuditWriter } from './audit/thread-writer.js';
import { auditLostRequests } from './audit/recover.js';
import { applyRetention } from './audit/retention.js';
import { loadConfigFile, type GatewayConfig } from './config/load.js';
import { RuntimeConfig } from './config/runtime.js';
import { CredentialSealer } from './config/credentials.js';
import { StoredEntities } from './config/entities.js';
import type { ConfigSnapshot } from './config/snapshot.js';
import { startDemoUpstream, type DemoUpstream } from './demo/upstream.js';
import { UpstreamClient } from './pipeline/forward.js';
import { SHUTDOWN_ABORT } from './pipeline/run.js';
import { AlertNotifier } from './budget/alerts.js';
import { MemoryBudgetLedger } from './budget/memory-ledger.js';
import { seedLedgerFromAudit } from './budget/seed.js';
import { preloadTokenizerFor } from './budget/tokens.js';
import { PolicyEngine } from './policy/engine.js';
import { PolicySet } from './policy/inheritance.js';
import { MemoryRateLimiter } from './ratelimit/memory-limiter.js';
import { ReviewQueue } from './review/queue.js';
import { openStores, type OpenedStores } from './store/open-stores.js';
import { guardStores, StoreAvailability } from './store/availability.js';
import { openRedisCounters } from './store/redis/counters.js';
import { FailoverCounters } from './store/redis/failover.js';
import { sqlitePath, type SqliteDb } from './store/sqlite/database.js';
import { MemorySignalBus } from './store/memory/signals.js';
import type { SignalBus } from './store/types.js';
import { PolicySync } from './policy/sync.js';
import { createLogger, scrubbingLogger } from './telemetry/logger.js';
import { configSecrets, scrubberFor } from './security/scrub.js';
import { GatewayMetrics } from './telemetry/metrics.js';
import { createTracing } from './telemetry/tracing.js';
import { DRAIN_MESSAGE, superviseWorkers } from './cli/workers.js';

export const GATEWAY_VERSION: string = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;

/** The example configuration shipped with the gateway, used when no file is given. */
export const EXAMPLE_CONFIG = fileURLToPath(new URL('../omega.example.yaml', import.meta.url));

export interface RunningGateway {
  app: FastifyInstance;
  /** e.g. http://127.0.0.1:8080 */
  url: string;
  config: GatewayConfig;
  /** The embedded SQLite database, for tests and tools that inspect the file; throws when `storage.url` is PostgreSQL. */
  readonly db: SqliteDb;
  stores: OpenedStores;
  audit: AuditWriter;
  /** The configuration in force and its reloads. */
  runtime: RuntimeConfig;
  /** Graceful stop: drain in-flight requests (up to shutdown_grace), flush the audit, close stores. */
  close(): Promise<void>;
}

export interface StartOptions {
  config: GatewayConfig;
  /** Overrides server.port (0 picks a free port). */
  port?: number;
  host?: string;
  logger?: Logger;
  /**
   * This replica's name (audit `gateway_instance`, owner of its held reviews); must be stable
   * across its restarts and distinct between replicas. Default: the host name.
   */
  instance?: string;
  /** Variables for `${ENV}` interpolation when the file is reloaded. Default: this process's environment. */
  env?: Record<string, string | undefined>;
  /**
   * `OMEGA_MASTER_KEY`: seals provider credentials set through the admin API (32 bytes, hex or
   * base64). Without it such credentials are refused (and stored ones ignored).
   */
  masterKey?: string;
  /** Reload the configuration file on SIGHUP, and when it changes (`omega serve` sets both). */
  reloadOn?: { sighup?: boolean; fileChange?: boolean };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** How long a shutdown waits for aborted requests, and then for the HTTP server, before moving on. */
const SHUTDOWN_BOUND_MS = 5_000;

/** Polls `done` every 10 ms for up to `ms`. */
async function until(done: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done() && Date.now() < deadline) await sleep(10);
}

/** One shutdown step; a failure is logged and the next step still runs. */
async function step(logger: Logger, what: string, run: () => unknown): Promise<void> {
  try {
    await run();
  } catch (err) {
    logger.error({ err, step: what }, 'shutdown step failed');
  }
}

export async function startGateway(options: StartOptions): Promise<RunningGateway> {
  const { config } = options;
  // Every line the gateway logs is scrubbed of this configuration's secrets (issue 10).
  const logger = scrubbingLogger(options.logger ?? createLogger(), scrubberFor(config));
  const opened = await openStores(config.storage.url, { durability: config.audit.durability, poolSize: config.storage.pool_size });
  // storage.on_unavailable: every store call notices an unreachable database; meanwhile calls fail
  // at once (503 store_unavailable) and the request path serves or refuses as configured.
  const storage = new StoreAvailability(opened.kind, config.storage.on_unavailable, opened.ping, logger);
  const stores = guardStores(opened, storage);
  const keyStore = stores.keys;
  const auditSink = stores.audit;
  const writerOptions = { flushIntervalMs: config.audit.flush_interval, batchSize: config.audit.batch_size, spoolFile: spoolFileFor(config, cluster.isWorker ? options.instance?.split('/').pop() : undefined) };
  // On the event loop each sink bounds a group commit's synchronous work itself (slices within one transaction).
  const inProcessWriter = () => new InProcessAuditWriter(auditSink, writerOptions, logger);
  // An embedded file: the audit thread commits on its own connection, off the event loop. An
  // in-memory database has no second connection, and PostgreSQL commits are network I/O already.
  const auditFile = stores.kind === 'sqlite' ? sqlitePath(config.storage.url) : ':memory:';
  const audit: AuditWriter =
    auditFile !== ':memory:' && config.audit.thread
      ? new ThreadedAuditWriter({ ...writerOptions, path: auditFile, synchronous: config.audit.durability === 'strict' ? 'FULL' : 'NORMAL', fallback: inProcessWriter }, logger)
      : inProcessWriter();
  // Listen only once the audit thread has its connection: strict requests wait on it.
  if (audit instanceof ThreadedAuditWriter) await audit.ready;
  // Back from an outage: replay the spool now rather than at the next tick.
  storage.onRecovery(() => audit.flush());

  let demo: DemoUpstream | undefined;
  const baseUrls: Record<string, string> = {};
  const demoProviders = Object.entries(config.providers).filter(([, p]) => p.type === 'demo');
  if (demoProviders.length > 0) {
    demo = await startDemoUpstream();
    for (const [name] of demoProviders) baseUrls[name] = demo.baseUrl;
    logger.warn({ providers: demoProviders.map(([n]) => n) }, 'demo upstream started: models of these providers answer with an echo, not a real model');
  }

  const identity: GatewayIdentity = { instance: options.instance ?? hostname(), version: GATEWAY_VERSION, configVersion: config.version };
  const upstream = new UpstreamClient(config);
  // Tokenizers load lazily and are large; load the ones the configured models need now, not on
  // a request (early: they load while the stores open). Models added later load on their swap.
  const preloadTokenizers = (models: GatewayConfig['models']) => {
    for (const [name, model] of Object.entries(models)) {
      preloadTokenizerFor(model.model ?? '');
      preloadTokenizerFor(name);
    }
  };
  preloadTokenizers(config.models);

  // Replicas tell each other about decisions, policy changes and revocations through Redis; alone, in memory.
  // The Redis client (~20 MB) is loaded only when redis.url is set.
  const signals: SignalBus = config.redis.url
    ? await (await import('./store/redis/signals.js')).RedisSignalBus.open({ url: config.redis.url, keyPrefix: config.redis.key_prefix, onError: (err) => logger.warn({ err: { message: err.message } }, 'redis signal connection failed; retrying') })
    : new MemorySignalBus();
  const policies = new PolicySet(config.policies);
  // Policies replaced at runtime (admin API, on any replica) stay in force across restarts: the newest stored version wins over the file.
  const policySync = new PolicySync(policies, stores.policies, signals, logger);
  await policySync.load();
  await policySync.listen();
  // The configuration in force (the file, plus entities of the admin API): swapped on reload.
  const sealer = options.masterKey ? CredentialSealer.fromMasterKey(options.masterKey) : undefined;
  const entities = new StoredEntities(stores.config, { sealer, policyNames: () => policies.names(), log: logger });
  const runtime = await RuntimeConfig.open({ initial: config, env: options.env ?? process.env, keyStore, policies, policyStore: stores.policies, signals, logger, baseUrls, entities, storage });
  const prepare = (snapshot: ConfigSnapshot) => {
    // Credentials that arrive later are scrubbed from logs and answers as the file's are.
    upstream.scrubber.learn(configSecrets(snapshot.config));
    preloadTokenizers(snapshot.config.models);
  };
  prepare(runtime.holder.current);
  runtime.holder.onSwap(prepare);
  await runtime.listen();
  const reloadOnSighup = () => void runtime.reloadFile('SIGHUP');
  if (options.reloadOn?.fileChange) runtime.watchFile();
  if (options.reloadOn?.sighup) process.on('SIGHUP', reloadOnSighup);
  // Counters: Redis when configured (shared by every replica; quotas and budgets in one round
  // trip), else in this process.
  const localBudgets = new MemoryBudgetLedger({ timeZone: config.budgets.timezone });
  const localLimiter = new MemoryRateLimiter();
  const shared = config.redis.url ? await (await import('./store/redis/counters.js')).openRedisCounters({ url: config.redis.url, keyPrefix: config.redis.key_prefix, timeZone: config.budgets.timezone }) : undefined;
  // redis.on_unavailable: while Redis is away, the local counters stand in (or requests are refused).
  const counters = shared ? new FailoverCounters(shared, { limiter: localLimiter, ledger: localBudgets }, config.redis.on_unavailable, logger) : undefined;
  const budgets = counters?.ledger ?? localBudgets;
  const limiter = counters?.limiter ?? localLimiter;
  // The local ledger is seeded too: it is what a degraded replica enforces.
  await seedLedgerFromAudit(stores.auditQuery, config, localBudgets);
  if (shared) await seedLedgerFromAudit(stores.auditQuery, config, shared.ledger);
  const alerts = new AlertNotifier({ webhookUrl: config.alerts.webhook, logger });
  const reviewStore = stores.reviews;
  // With Redis a decision made elsewhere arrives as a signal; the poll is only the safety net then.
  const reviews = new ReviewQueue(reviewStore, { webhook: config.alerts.webhook, pollMs: config.redis.url ? 5000 : 1000, log: logger, instance: identity.instance, signals });
  await reviews.listen();
  // Requests held for review by a previous process of this instance are gone with it: close their items (other replicas' holds still wait).
  const orphaned = await reviewStore.failPendingHolds('the gateway restarted while the request was held', Date.now(), identity.instance);
  if (orphaned.length > 0) logger.warn({ reviews: orphaned.map((r) => r.id) }, 'held review items of a previous process marked failed');
  // ...and every request a crash left without a final audit record (held or forwarded) gets one.
  const lost = await auditLostRequests(stores.auditQuery, audit, identity, orphaned);
  if (lost > 0) logger.warn({ records: lost }, 'requests a crashed process left without a final audit record were recorded');
  const longestHold = Math.max(0, ...Object.values(config.policies).map((p) => p.review.timeout));
  const reservationTtlMs = config.server.upstream_timeout * config.routing.max_attempts + longestHold + 60_000;
  const metrics = new GatewayMetrics({
    deploymentStates: () => runtime.holder.current.routes.deploymentStates(),
    auditQueueDepth: () => audit.pending,
    reviewHeld: () => reviews.held,
    degraded: (): Record<string, number> => ({ storage: storage.down ? 1 : 0, ...(counters ? { counters: counters.degraded ? 1 : 0 } : {}) }),
    backendsUp: (): Record<string, number> => ({ [storage.backend]: storage.down ? 0 : 1, ...(counters ? { redis: counters.degraded ? 0 : 1 } : {}) }),
    degradedDecisions: () => [...decisionsOf(storage.decisions), ...(counters ? decisionsOf(counters.decisions) : [])],
    auditSpooled: () => audit.spooled,
    redisRoundTrips: shared ? () => shared.roundTrips() : undefined,
  });
  const tracing = createTracing({
    otlpEndpoint: config.telemetry.otlp_endpoint,
    headers: config.telemetry.otlp_headers,
    serviceName: 'omega-gateway',
    serviceVersion: identity.version,
    instanceId: identity.instance,
    providerTypes: Object.fromEntries(Object.entries(config.providers).map(([n, p]) => [n, p.type])),
    onError: (err) => logger.warn({ err }, 'tracing disabled: the OpenTelemetry SDK failed to load'),
  });
  const deps: GatewayDeps = {
    config,
    responses: stores.responses,
    snapshots: runtime.holder,
    runtime,
    sealer,
    upstream,
    policy: new PolicyEngine(policies),
    limiter,
    budgets,
    admission: counters?.admission,
    reservationTtlMs,
    alerts,
    reviews,
    policySync,
    signals,
    audit,
    stores,
    storage,
    identity,
    metrics,
    observeRecord: (record) => {
      metrics.observe(record);
      tracing.requestSpan(record, record.received_at_ms, record.received_at_ms + record.total_latency_ms);
    },
    logger,
    inFlight: new Set(),
    readiness: async () => {
      // A store that is down leaves the replica ready in `open` mode (it serves) and not ready in `closed`.
      const state = await storage.check();
      const entry = { ...state, backend: storage.backend, audit_spooled: audit.spooled };
      return { ready: state.state === 'up' || storage.mode === 'open', storage: entry, ...(counters ? { counters: counters.readiness() } : {}), deployments: runtime.holder.current.routes.deploymentStates() };
    },
  };
  const app = buildApp(deps);
  // Retention runs hourly (and once shortly after start); each deletion is chained.
  const retentionRun = () =>
    Promise.all([
      applyRetention(config, auditSink, identity.instance).then(
        (events) => events.forEach((e) => logger.info({ chain: e.chain, deleted: e.deleted_count }, 'audit retention applied')),
        (err: unknown) => logger.error({ err }, 'audit retention failed'),
      ),
      stores.responses.deleteExpired(Date.now()).catch((err: unknown) => logger.error({ err }, 'stored responses retention failed')),
    ]);
  const retentionTimer = setInterval(retentionRun, 3_600_000);
  retentionTimer.unref();
  setTimeout(retentionRun, 10_000).unref();
  const address = await app.listen({ port: options.port ?? config.server.port, host: options.host ?? config.server.host });
  const url = address.replace('[::]', '127.0.0.1').replace('0.0.0.0', '127.0.0.1');

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      // Stop accepting, let in-flight requests finish (up to the grace period, then abort them:
      // each still writes its audit record), then drop keep-alive connections that Node does
      // not consider idle, so a lingering client socket cannot hold the shutdown open. Every
      // wait is bounded: the whole shutdown ends within shutdown_grace + 2 × SHUTDOWN_BOUND_MS,
      // and the audit is flushed whatever happened before.
      try {
        const closed = app.close();
        reviews.shutdown();
        clearInterval(retentionTimer);
        policySync.close();
        runtime.close();
        process.off('SIGHUP', reloadOnSighup);
        await until(() => deps.inFlight.size === 0, config.server.shutdown_grace);
        if (deps.inFlight.size > 0) {
          logger.warn({ inFlight: deps.inFlight.size }, 'shutdown grace period over; aborting in-flight requests');
          for (const abort of deps.inFlight) abort.abort(SHUTDOWN_ABORT);
          await until(() => deps.inFlight.size === 0, SHUTDOWN_BOUND_MS);
          if (deps.inFlight.size > 0) logger.error({ inFlight: deps.inFlight.size }, 'in-flight requests did not end after their abort; closing anyway');
        }
        app.server.closeAllConnections();
        const done = await Promise.race([
          closed.then(
            () => true,
            (err: unknown) => (logger.error({ err }, 'closing the HTTP server failed'), true),
          ),
          sleep(SHUTDOWN_BOUND_MS).then(() => false),
        ]);
        if (!done) logger.error('the HTTP server did not close in time; closing the stores anyway');
      } finally {
        await step(logger, 'audit', () => audit.close());
        await step(logger, 'alerts', () => alerts.flush());
        await step(logger, 'budgets', () => localBudgets.close());
        await step(logger, 'rate limiter', () => localLimiter.close());
        await step(logger, 'counters', async () => counters?.close());
        await step(logger, 'upstream', () => upstream.close());
        await step(logger, 'signals', () => signals.close());
        await step(logger, 'tracing', () => tracing.shutdown());
        await step(logger, 'demo upstream', async () => demo?.close());
        storage.close();
        await step(logger, 'stores', () => stores.close());
      }
    })());

  return {
    app,
    url,
    config,
    get db() {
      if (stores.kind !== 'sqlite') throw new Error('RunningGateway.db is the SQLite file; this gateway stores in PostgreSQL (use stores)');
      return stores.db;
    },
    stores,
    audit,
    runtime,
    close,
  };
}

/** A tally of degraded decisions (`concern|decision` → count) as metric samples. */
function decisionsOf(tally: ReadonlyMap<string, number>): { concern: string; decision: string; count: number }[] {
  return [...tally].map(([key, count]) => {
    const [concern, decision] = key.split('|') as [string, string];
    return { concern, decision, count };
  });
}

/** Resolves which configuration file to use: --config, then OMEGA_CONFIG, then ./omega.yaml's absence → the example. */
function spoolFileFor(config: GatewayConfig, worker?: string): string {
  const db = config.storage.url.startsWith('sqlite://') ? sqlitePath(config.storage.url) : ':memory:';
  const file = config.audit.spool_file ? resolve(config.audit.spool_file) : join(db === ':memory:' ? resolve('data') : dirname(db), 'audit-spool.jsonl');
  // Workers of one `omega serve --workers N` each keep their own spool (worker i replays its own after a restart).
  return worker ? file.replace(/(\.jsonl)?$/, `.${worker}$1`) : file;
}

export function configPathFrom(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return flag ?? env.OMEGA_CONFIG ?? EXAMPLE_CONFIG;
}

/** The deployment file `omega config apply` replaces: --config, then OMEGA_CONFIG, else `fallback` (never the shipped example). */
export function deploymentFileFrom(flag: string | undefined, fallback: string, env: NodeJS.ProcessEnv = process.env): string {
  return flag ?? env.OMEGA_CONFIG ?? fallback;
}

/** Exit code of `omega serve` when the configuration cannot support what was asked (e.g. --workers without redis.url). */
export const EXIT_UNSUPPORTED = 2;

/**
 * `omega serve`: start, print the first-run banner, stop cleanly on SIGTERM/SIGINT. With
 * `workers` > 1 this process becomes the primary of that many gateway workers (cli/workers.ts).
 */
export async function serve(options: { config?: string; port?: number; workers?: number }): Promise<void> {
  const logger = createLogger(process.env.OMEGA_LOG_LEVEL ?? 'info');
  const path = configPathFrom(options.config);
  const config = loadConfigFile(path, process.env);
  const workers = options.workers ?? 1;
  if (workers > 1 && cluster.isPrimary) {
    // Without Redis each worker would count quotas and budgets alone: N workers would admit N times the limit.
    if (!config.redis.url) {
      process.stderr.write(`omega: --workers ${workers} needs redis.url in ${config.source}: workers share rate quotas, budget holds and signals through Redis (without it, run one process).\n`);
      process.exit(EXIT_UNSUPPORTED);
    }
    superviseWorkers({ workers, instance: process.env.OMEGA_INSTANCE ?? hostname(), logger });
    return;
  }
  const gateway = await startGateway({ config, port: options.port, logger, instance: process.env.OMEGA_INSTANCE, env: process.env, masterKey: process.env.OMEGA_MASTER_KEY || undefined, reloadOn: { sighup: true, fileChange: true } });
  logger.info({ url: gateway.url, config: config.source, configVersion: config.version }, 'gateway listening');
  process.stdout.write(banner(gateway));

  let signals = 0;
  let draining = false;
  const drain = (signal: string) => {
    if (draining) return;
    draining = true;
    logger.info({ signal }, 'shutting down: draining in-flight requests');
    gateway.close().then(
      () => process.exit(0),
      (err) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  const stop = (signal: string) => {
    if (++signals > 1) process.exit(1);
    drain(signal);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // A worker drains when its primary asks (the primary got SIGTERM).
  if (cluster.isWorker) process.on('message', (m) => m === DRAIN_MESSAGE && drain('primary'));
}

function banner(gateway: RunningGateway): string {
  const { config, url } = gateway;
  const lines = ['', `  OmegaEngine Gateway ${GATEWAY_VERSION} on ${url}`, `  config:  ${config.source}`, `  storage: ${config.storage.url}`];
  const demoModel = Object.entries(config.models).find(([, m]) => m.provider !== undefined && config.providers[m.provider]?.type === 'demo')?.[0];
  const demoKey = demoModel && firstPlaintextKey(config, demoModel);
  if (demoModel && demoKey) {
    lines.push(
      '',
      `  Try it (model "${demoModel}" is the built-in demo upstream, an echo):`,
      `    curl ${url}/v1/chat/completions \\`,
      `      -H "Authorization: Bearer ${demoKey}" -H "Content-Type: application/json" \\`,
      `      -d '{"model":"${demoModel}","messages":[{"role":"user","content":"Hello"}]}'`,
    );
    // The example key is public: served beyond this machine it lets anyone in (and at real models once a provider key is set).
    if (!isLoopback(config.server.host)) {
      lines.push('', `  WARNING: the example key above is public and the gateway listens on ${config.server.host}.`, '  Set server.host: 127.0.0.1 or remove the demo tenant before exposing it.');
    }
  }
  const missing = Object.entries(config.missingCredentials);
  if (missing.length > 0) {
    lines.push('', '  Providers without a credential (their models answer 503 until it is set):');
    for (const [provider, variable] of missing) lines.push(`    ${provider}: set ${variable}`);
  }
  return lines.join('\n') + '\n\n';
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

function firstPlaintextKey(config: GatewayConfig, model: string): string | undefined {
  for (const tenant of Object.values(config.tenants)) {
    if (!tenant.models.includes('*') && !tenant.models.includes(model)) continue;
    for (const team of Object.values(tenant.teams)) {
      for (const agent of Object.values(team.agents)) {
        const key = agent.keys.find((k) => k.key)?.key;
        if (key) return key;
      }
    }
  }
  return undefined;
}
