/**
 * Fire-and-forget JSON webhooks (Slack-compatible: a `text` field, plus our own fields). A slow
 * or failing receiver never holds up a request: 5 s timeout, failures logged, never thrown.
 */
import { request } from 'undici';

export interface WebhookLogger {
  warn(obj: object, msg: string): void;
}

export function postWebhook(url: string | undefined, payload: { text: string } & Record<string, unknown>, log: WebhookLogger): void {
  if (!url) return;
  request(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(payload),
    headersTimeout: 5000,
    bodyTimeout: 5000,
  })
    .then(async (res) => {
      await res.body.dump();
      if (res.statusCode >= 300) log.warn({ status: res.statusCode }, 'webhook receiver refused a notification');
    })
    .catch((err: unknown) => log.warn({ err: (err as Error).message }, 'webhook notification failed'));
}
