/**
 * Budget threshold alerts: logged, kept in memory for the admin API/console, and posted to an
 * optional Slack-compatible webhook. Delivery is fire-and-forget: a slow or broken receiver
 * never delays a request and never throws; failures are logged.
 */
import { postWebhook } from '../telemetry/webhook.js';
import type { ThresholdCrossed } from './ledger.js';

/** The part of a pino logger this needs. */
export interface AlertLogger {
  warn(obj: object, msg?: string): void;
}

export interface BudgetAlert extends ThresholdCrossed {
  tenantId: string;
  /** Epoch ms when the alert was raised. */
  at: number;
}

export interface AlertNotifierOptions {
  logger: AlertLogger;
  /** Slack incoming-webhook URL or any JSON receiver. Holds a secret: never logged. */
  webhookUrl?: string;
  /** Whole-delivery timeout (connect + response). Default 5000. */
  timeoutMs?: number;
  /** Events kept for `recent()`. Default 1000. */
  capacity?: number;
  now?: () => number;
}

/**
 * @example
 * const alerts = new AlertNotifier({ logger: app.log, webhookUrl: cfg.alerts?.webhook });
 * for (const c of (await ledger.commit(r, usd)).crossed) alerts.notify({ ...c, tenantId });
 */
export class AlertNotifier {
  private readonly logger: AlertLogger;
  private readonly webhookUrl: string | undefined;
  private readonly timeoutMs: number;
  private readonly now: () => number;
  private readonly ring: BudgetAlert[] = [];
  private readonly capacity: number;
  private next = 0;
  private readonly inflight = new Set<Promise<void>>();

  constructor(options: AlertNotifierOptions) {
    this.logger = options.logger;
    this.webhookUrl = options.webhookUrl || undefined;
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.capacity = Math.max(1, options.capacity ?? 1000);
    this.now = options.now ?? Date.now;
  }

  /** Records and announces one crossed threshold. Never throws, never waits on the network. */
  notify(event: ThresholdCrossed & { tenantId: string }): void {
    const alert: BudgetAlert = { scope: event.scope, threshold: event.threshold, spentUsd: event.spentUsd, periodStart: event.periodStart, tenantId: event.tenantId, at: this.now() };
    if (this.ring.length < this.capacity) this.ring.push(alert);
    else this.ring[this.next] = alert;
    this.next = (this.next + 1) % this.capacity;
    try {
      this.logger.warn(
        {
          alert: 'budget_threshold',
          tenantId: alert.tenantId,
          scope: alert.scope.key,
          period: alert.scope.period,
          threshold: alert.threshold,
          spentUsd: alert.spentUsd,
          limitUsd: alert.scope.limitUsd,
          periodStart: new Date(alert.periodStart).toISOString(),
        },
        `budget ${alert.scope.key} reached ${percent(alert.threshold)} of $${alert.scope.limitUsd}`,
      );
    } catch {
      // a broken logger must not break the request that crossed the threshold
    }
    if (this.webhookUrl) this.track(this.post(this.webhookUrl, alert));
  }

  /** Most recent alerts first, optionally of one tenant only. */
  recent(tenantId?: string): BudgetAlert[] {
    const out: BudgetAlert[] = [];
    const n = this.ring.length;
    for (let i = 1; i <= n; i++) {
      const a = this.ring[(this.next - i + n) % n];
      if (tenantId === undefined || a.tenantId === tenantId) out.push(a);
    }
    return out;
  }

  /** Resolves once every webhook delivery started so far has finished (shutdown, tests). */
  async flush(): Promise<void> {
    while (this.inflight.size > 0) await Promise.all([...this.inflight]);
  }

  private track(p: Promise<void>): void {
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p));
  }

  private post(url: string, alert: BudgetAlert): Promise<void> {
    return postWebhook(url, slackPayload(alert), this.logger, { timeoutMs: this.timeoutMs, what: 'budget alert webhook' });
  }
}

/**
 * Slack-compatible body: `text` and `attachments` render in Slack, Mattermost, Rocket.Chat…;
 * `omega` is the machine-readable copy for other receivers.
 */
export function slackPayload(alert: BudgetAlert): { text: string; attachments: object[]; omega: Record<string, unknown> } {
  const { scope } = alert;
  const periodStart = new Date(alert.periodStart).toISOString();
  const utilization = scope.limitUsd > 0 ? alert.spentUsd / scope.limitUsd : null;
  return {
    text: `:warning: Budget alert for tenant ${alert.tenantId}: ${scope.key} reached ${percent(alert.threshold)} of its ${scope.period} budget ($${usd(alert.spentUsd)} of $${usd(scope.limitUsd)}).`,
    attachments: [
      {
        color: alert.threshold >= 1 ? 'danger' : 'warning',
        fields: [
          { title: 'Tenant', value: alert.tenantId, short: true },
          { title: 'Scope', value: scope.key, short: true },
          { title: 'Spent', value: `$${usd(alert.spentUsd)}`, short: true },
          { title: 'Limit', value: `$${usd(scope.limitUsd)} ${scope.period}`, short: true },
          { title: 'Period start', value: periodStart, short: false },
        ],
        ts: Math.floor(alert.at / 1000),
      },
    ],
    omega: {
      type: 'budget.threshold_crossed',
      tenant_id: alert.tenantId,
      scope: scope.key,
      period: scope.period,
      threshold: alert.threshold,
      spent_usd: alert.spentUsd,
      limit_usd: scope.limitUsd,
      utilization,
      period_start: periodStart,
      at: new Date(alert.at).toISOString(),
    },
  };
}

const percent = (fraction: number): string => `${Math.round(fraction * 1000) / 10}%`;
/** Cents, or two significant digits below a cent (tiny budgets for tests and trials). */
const usd = (v: number): string => (v >= 0.01 || v === 0 ? v.toFixed(2) : v.toPrecision(2));

