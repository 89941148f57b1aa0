/**
 * Issue 10 item 1: no single request stalls the gateway. The worst bodies found for the
 * detectors and the OpenAI tokenizer are sent at the body limit, one after another, to a model
 * priced by the tokenizer with a policy that runs every detector, while another client polls
 * /healthz. The event loop must stay responsive and each attack must finish in bounded time.
 */
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_UPSTREAM_KEY, startFakeOpenAI, type FakeOpenAI } from '../fakes/openai-upstream.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

const KEY = 'omk_test_bounded_key_0123456789abcde';
const BODY_LIMIT = 1024 * 1024;

function config(upstreamBaseUrl: string): string {
  return `
server:
  upstream_timeout: 10s
  body_limit: 1mb
storage:
  url: sqlite://\${DATA_DIR}/omega.db
audit:
  flush_interval: 20ms
providers:
  fake-openai: { type: openai, base_url: "${upstreamBaseUrl}", api_key: "${FAKE_UPSTREAM_KEY}", circuit_breaker: { enabled: false } }
models:
  gpt-4o: { provider: fake-openai, retries: 0, price: { input: 2.5, output: 10 } }
policies:
  everything:
    review: { mode: flag }
    rules:
      - { id: mask-pii, detect: pii, action: redact }
      - { id: note-secrets, detect: secrets, action: log }
      - { id: note-injection, detect: prompt_injection, action: log }
      - { id: codenames, terms: ["project orion", "c++"], patterns: ["(?i)orion-[0-9]{3}"], action: log }
tenants:
  acme:
    models: [gpt-4o]
    policy: everything
    teams:
      t:
        agents:
          a: { keys: [ { id: key_bounded, key: "${KEY}" } ] }
`;
}

/** The unit repeated to fill a chat body of about `bytes` UTF-8 bytes. */
function attackBody(unit: string, bytes: number): string {
  const unitBytes = Buffer.byteLength(JSON.stringify(unit)) - 2;
  // The fake upstream answers three words ([words:3]) instead of echoing the megabyte back.
  const content = unit.repeat(Math.floor((bytes - 200) / unitBytes));
  return JSON.stringify({ model: 'gpt-4o', max_tokens: 5, messages: [{ role: 'user', content: `${content} [words:3]` }] });
}

const ATTACKS = ['a@', '中', 'a@b', '1 ', '#', '\nsystem: ', '<|', '-----BEGIN RSA PRIVATE KEY-----.', 'a@b.co ', 'eyJ', 'Ab3+xZ9q'];

describe('bounded work per request', () => {
  let upstream: FakeOpenAI;
  let gw: TestGateway;

  beforeAll(async () => {
    upstream = await startFakeOpenAI();
    gw = await startTestGateway(config(upstream.baseUrl));
  });
  afterAll(async () => {
    await gw?.stop();
    await upstream?.close();
  });

  async function send(body: string): Promise<number> {
    const r = await request(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body,
    });
    await r.body.text();
    return r.statusCode;
  }

  it('keeps /healthz fast while the worst bodies at the body limit are processed', async () => {
    // Warm-up: the first run of each code path pays for compilation, not for the input.
    for (const unit of ATTACKS) expect(await send(attackBody(unit, 64 * 1024))).toBe(200);
    const latencies: number[] = [];
    const worstDuring: Record<string, number> = {};
    let current = '';
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const t0 = performance.now();
        const r = await request(`${gw.url}/healthz`);
        await r.body.text();
        const ms = performance.now() - t0;
        latencies.push(ms);
        worstDuring[current] = Math.max(worstDuring[current] ?? 0, ms);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
    const durations: Record<string, number> = {};
    try {
      for (const unit of ATTACKS) {
        const body = attackBody(unit, BODY_LIMIT);
        current = unit;
        expect(Buffer.byteLength(body)).toBeLessThanOrEqual(BODY_LIMIT);
        const t0 = performance.now();
        const status = await send(body);
        durations[unit] = performance.now() - t0;
        expect(status, unit).toBe(200);
      }
    } finally {
      polling = false;
      await poller;
    }
    latencies.sort((a, b) => a - b);
    console.log(
      `healthz during attacks: ${latencies.length} polls, p50 ${latencies[latencies.length >> 1].toFixed(1)} ms, max ${latencies.at(-1)!.toFixed(1)} ms; ` +
        `attack: duration / worst healthz (ms): ${Object.entries(durations).map(([u, d]) => `${JSON.stringify(u)} ${d.toFixed(0)} / ${(worstDuring[u] ?? 0).toFixed(0)}`).join(', ')}`,
    );
    expect(latencies.length).toBeGreaterThan(ATTACKS.length);
    // Before the fix a single one of these held the loop for minutes. The remaining synchronous
    // steps (JSON parse, hashing, term regexes, serialising the forwarded body) take tens of ms
    // each on an idle machine; 500 ms leaves room for a CI box shared with other jobs.
    expect(latencies.at(-1)!).toBeLessThan(500);
    for (const [unit, d] of Object.entries(durations)) expect(d, unit).toBeLessThan(15_000);
  }, 240_000);
});
