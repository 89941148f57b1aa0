/**
 * The one sender of JSON webhooks (Slack-compatible: a `text` field, plus our own fields), used
 * by budget alerts and the review queue. A slow or failing receiver never holds up a request:
 * the whole delivery (connect included) is bounded, failures are logged with the receiver's
 * host only (webhook URLs often embed a secret), and the returned promise never rejects.
 */
import { request } from 'undici';
import { scrubPatterns } from '../security/scrub.js';

export interface WebhookLogger {
  warn(obj: object, msg: string): void;
}

export async function postWebhook(
  url: string | undefined,
  payload: { text: string } & Record<string, unknown>,
  log: WebhookLogger,
  options: { timeoutMs?: number; what?: string } = {},
): Promise<void> {
  if (!url) return;
  const timeoutMs = options.timeoutMs ?? 5000;
  const what = options.what ?? 'webhook';
  const warn = (obj: Record<string, unknown>, msg: string) => {
    try {
      log.warn({ ...obj, webhookHost: hostOf(url) }, msg);
    } catch {
      // never throw from a fire-and-forget path
    }
  };
  try {
    const res = await request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(payload),
      signal: AbortSignal.timeout(timeoutMs),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    await res.body.dump();
    if (res.statusCode >= 300) warn({ status: res.statusCode }, `${what} refused the notification`);
  } catch (err) {
    // An error message may quote the URL (and its token) or a receiver's answer: keep it short and scrubbed.
    const said = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    warn({ err: scrubPatterns(said.split(url).join(hostOf(url) ?? '[webhook]')).slice(0, 300) }, `${what} failed`);
  }
}

function hostOf(url: string): string | undefined {
  try {
    return new URL(url).host;
  } catch {
    return undefined;
  }
}
