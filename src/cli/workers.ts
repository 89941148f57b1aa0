/**
 * `omega serve --workers N`: the primary process forks N gateway workers sharing one port
 * (node:cluster hands connections out round-robin), restarts a worker that dies, and on
 * SIGTERM/SIGINT asks every worker to drain and exits once all have; SIGHUP is passed on to
 * every worker (configuration reload). Worker i is the instance
 * `<base>/w<i>`, stable across its restarts, so a restarted worker fails only its own held
 * reviews. Workers share state through Redis and the store, as replicas do.
 */
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';

/** The message a worker drains on (a signal from the primary would count as a second Ctrl+C). */
export const DRAIN_MESSAGE = 'omega:drain';

/** A worker that lived this long is restarted at once; one that died sooner waits, doubling up to MAX_BACKOFF_MS. */
const HEALTHY_AFTER_MS = 10_000;
const MAX_BACKOFF_MS = 30_000;

export interface SuperviseOptions {
  workers: number;
  /** The base instance name (OMEGA_INSTANCE, else the host name). */
  instance: string;
  logger: Logger;
}

export function superviseWorkers({ workers, instance, logger }: SuperviseOptions): void {
  const byWorker = new Map<Worker, { index: number; started: number }>();
  const quickDeaths = new Map<number, number>();
  let stopping = false;

  const fork = (index: number) => {
    const worker = cluster.fork({ OMEGA_INSTANCE: `${instance}/w${index}` });
    byWorker.set(worker, { index, started: Date.now() });
    worker.on('online', () => logger.info({ worker: index, pid: worker.process.pid }, 'worker started'));
  };

  cluster.on('exit', (worker, code, signal) => {
    const info = byWorker.get(worker);
    byWorker.delete(worker);
    if (!info) return;
    if (stopping) {
      if (byWorker.size === 0) {
        logger.info('all workers stopped');
        process.exit(0);
      }
      return;
    }
    const lived = Date.now() - info.started;
    const deaths = lived >= HEALTHY_AFTER_MS ? 0 : (quickDeaths.get(info.index) ?? 0) + 1;
    quickDeaths.set(info.index, deaths);
    const delay = deaths === 0 ? 0 : Math.min(MAX_BACKOFF_MS, 500 * 2 ** (deaths - 1));
    logger.error({ worker: info.index, pid: worker.process.pid, code, signal, restartInMs: delay }, 'worker died; restarting it');
    setTimeout(() => !stopping && fork(info.index), delay);
  });

  let signals = 0;
  const stop = (signal: string) => {
    if (++signals > 1) {
      for (const w of byWorker.keys()) w.process.kill('SIGKILL');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal, workers: byWorker.size }, 'shutting down: every worker drains its in-flight requests');
    if (byWorker.size === 0) process.exit(0);
    for (const w of byWorker.keys()) if (w.isConnected()) w.send(DRAIN_MESSAGE);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // A reload asked of the primary is every worker's: each re-reads the file itself.
  process.on('SIGHUP', () => {
    for (const w of byWorker.keys()) w.process.kill('SIGHUP');
  });

  for (let i = 1; i <= workers; i++) fork(i);
}
