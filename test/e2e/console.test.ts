/**
 * The console end to end, in Debian's Chromium against the real gateway (port 0, SQLite, a fake
 * OpenAI upstream), as an operator uses it: sign in with an admin token; watch a held request
 * arrive in the review queue and approve it from the keyboard while the `openai` SDK call waits
 * (arrival → approval under 10 s); search the audit log and verify the chain; create an agent and
 * a key and use the key at once; publish a policy and see the next request decided by it; role-
 * aware navigation; every main page screenshotted at 1280 and 390 px with a basic accessibility
 * check. Skips without Chromium, except under CI=true (then launching it fails with what to install).
 */
import OpenAI from 'openai';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_UPSTREAM_KEY, startFakeOpenAI, type FakeOpenAI } from '../fakes/openai-upstream.js';
import { accessibilityProblems, HAVE_CHROMIUM, LAPTOP, launchChromium, MUST_RUN, PHONE, screenshot } from '../support/browser.js';
import { ensureConsoleBuilt } from '../support/console-build.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { refused } from '../support/requests.js';

const ADMIN = 'adm_e2e_root_token_0123456789abcdef';
const REVIEWER = 'adm_e2e_reviewer_token_0123456789ab';
const AUDITOR = 'adm_e2e_auditor_token_0123456789abc';
const HELD_KEY = 'omk_e2e_held_key_0123456789abcdefgh';
const BOT_KEY = 'omk_e2e_bot_key_0123456789abcdefghi';

function config(upstream: string): string {
  return `
server:
  upstream_timeout: 5s
storage:
  url: sqlite://\${DATA_DIR}/omega.db
audit:
  flush_interval: 20ms
keys:
  cache_ttl: 50ms
admin:
  tokens:
    - { id: root, token: "${ADMIN}" }
    - { id: rita, token: "${REVIEWER}", role: reviewer }
    - { id: audrey, token: "${AUDITOR}", role: auditor }
providers:
  fake-openai: { type: openai, base_url: "${upstream}", api_key: "${FAKE_UPSTREAM_KEY}", circuit_breaker: { enabled: false } }
models:
  gpt-test: { provider: fake-openai, model: gpt-upstream, retries: 0, price: { input: 2, output: 8 } }
policies:
  held:
    review: { mode: hold, timeout: 60s, on_timeout: block }
    rules:
      - { id: wire-transfers, terms: ["wire transfer"], action: review }
  everyday:
    rules:
      - { id: no-codenames, terms: ["project orion"], action: block }
tenants:
  acme:
    models: [gpt-test]
    policy: everyday
    teams:
      research:
        agents:
          bot: { keys: [ { id: key_bot, key: "${BOT_KEY}" } ] }
          treasurer: { policy: held, keys: [ { id: key_held, key: "${HELD_KEY}" } ] }
  globex:
    models: [gpt-test]
`;
}

const run = HAVE_CHROMIUM || MUST_RUN;
let upstream: FakeOpenAI;
let gw: TestGateway;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const pageErrors: string[] = [];

const client = (key: string) => new OpenAI({ apiKey: key, baseURL: `${gw.url}/v1`, maxRetries: 0, timeout: 60_000 });
const ask = (key: string, content: string) => client(key).chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content }] });

async function signInWithToken(p: Page, token: string): Promise<void> {
  await p.goto(`${gw.url}/console/`);
  await p.getByLabel('Admin token').fill(token);
  await p.getByRole('button', { name: 'Sign in with token' }).click();
  await p.getByRole('button', { name: 'Sign out' }).waitFor();
}

/** Waits until the page shows its heading and no loading indicator. */
async function settled(p: Page, heading: string | RegExp): Promise<void> {
  await p.getByRole('heading', { level: 1, name: heading }).waitFor();
  await p.waitForFunction(() => !document.querySelector('.state-loading'), undefined, { timeout: 10_000 });
}

describe.skipIf(!run)('console end to end (Chromium)', { timeout: 90_000 }, () => {
  beforeAll(async () => {
    await ensureConsoleBuilt();
    upstream = await startFakeOpenAI();
    gw = await startTestGateway(config(upstream.baseUrl));
    browser = await launchChromium();
    context = await browser.newContext({ viewport: LAPTOP });
    page = await context.newPage();
    // A script error in the console fails the test that caused it (see afterEach).
    page.on('pageerror', (err) => pageErrors.push(err.message));
  }, 180_000);

  afterEach(() => {
    const errors = pageErrors.splice(0);
    expect(errors, 'errors thrown in the page').toEqual([]);
  });

  afterAll(async () => {
    await browser?.close();
    await gw?.stop();
    await upstream?.close();
  });

  it('has an accessibility check that finds what it looks for', async () => {
    // The check used on every page below, shown to catch each kind of problem on a bad page.
    const bad = await browser.newPage();
    await bad.setContent('<html><body><p style="color:#aaa">faint</p><input id="x"><input id="x"><button></button><div style="width:2000px">wide</div></body></html>');
    const rules = (await accessibilityProblems(bad)).map((p) => p.rule);
    await bad.close();
    expect(rules).toEqual(
      expect.arrayContaining(['control has no label', 'button or link has no name', 'duplicate id', 'page needs exactly one h1', 'html has no lang', 'page scrolls horizontally']),
    );
    expect(rules.some((r) => r.startsWith('low text contrast'))).toBe(true);
  });

  it('refuses a wrong token, then signs in with an admin token', async () => {
    await page.goto(`${gw.url}/console/`);
    await settled(page, 'Sign in to OmegaEngine');
    await page.getByLabel('Admin token').fill('adm_not_a_real_token_0123456789');
    await page.getByRole('button', { name: 'Sign in with token' }).click();
    await expect.poll(() => page.getByRole('alert').first().textContent()).toMatch(/token/i);

    await page.getByLabel('Admin token').fill(ADMIN);
    await page.getByRole('button', { name: 'Sign in with token' }).click();
    await settled(page, 'Overview');
    expect(page.url()).toBe(`${gw.url}/console/overview`);
    // The session is an http-only cookie: the page's script cannot read it.
    expect(await page.evaluate(() => document.cookie)).not.toContain('omega_session');
    const cookies = await context.cookies();
    expect(cookies.find((c) => c.name === 'omega_session')?.httpOnly).toBe(true);
  });

  it('shows a held request live, approves it from the keyboard, and the waiting SDK call completes (arrival → approval < 10 s)', async () => {
    await page.goto(`${gw.url}/console/reviews`);
    await settled(page, 'Review queue');
    await page.getByRole('status').filter({ hasText: 'Live' }).waitFor();

    const arrived = Date.now();
    let answeredAt = 0;
    const call = ask(HELD_KEY, 'Please prepare the wire transfer to our supplier.').then((r) => {
      answeredAt = Date.now();
      return r;
    });
    // Awaited below; if a step before fails, the dangling call must not become an unhandled rejection.
    call.catch(() => undefined);
    // It arrives through the event stream: no reload.
    const item = page.locator('.queue-item').first();
    await item.waitFor({ timeout: 8_000 });
    expect(await item.textContent()).toContain('acme');
    await page.keyboard.press('j');
    await page.getByRole('heading', { name: /^Review rev_/ }).waitFor();
    expect(await page.locator('.review-detail').textContent()).toContain('wire transfer');
    expect(await page.locator('.review-detail').textContent()).toContain('wire-transfers');
    await screenshot(page, 'review-detail');
    await page.keyboard.press('a');
    await page.getByRole('status').filter({ hasText: /^Approved / }).waitFor();
    const approvedAt = Date.now();

    const completion = await call;
    expect(completion.choices[0]!.message.content).toBeTruthy();
    const reviewerMs = approvedAt - arrived;
    console.log(`[e2e] held request: arrival → approval ${reviewerMs} ms, → SDK answer ${answeredAt - arrived} ms`);
    expect(reviewerMs).toBeLessThan(10_000);
    // The queue empties; the decision is recorded with the reviewer.
    await page.getByText('Nothing waiting for review').waitFor();
    const records = await gw.auditRecords();
    const held = records.find((r) => r.review_id !== null && r.review_decision === 'approved');
    expect(held?.reviewer).toBe('root');
  });

  it('searches the audit log, opens a record with every signal, and verifies the chain', async () => {
    await page.goto(`${gw.url}/console/audit`);
    await settled(page, 'Audit');
    await page.getByLabel('Tenant').fill('acme');
    await page.getByLabel('Outcome').selectOption('review');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(/\/console\/audit\?.*tenant=acme/);
    const link = page.locator('table a').first();
    await link.waitFor();
    const decisionId = (await link.textContent())!;
    expect(decisionId).toMatch(/\S/);
    await screenshot(page, 'audit');

    await link.click();
    await settled(page, /Audit record/);
    const signals = await page.locator('.signals dt').allTextContents();
    for (const s of ['decision_id', 'tenant_id', 'policy_outcome', 'risk_score', 'review_decision', 'reviewer', 'cost_usd']) expect(signals).toContain(s);
    await screenshot(page, 'audit-record');

    await page.goBack();
    await settled(page, 'Audit');
    await page.getByRole('button', { name: /Verify the chain/ }).click();
    await page.getByRole('status').filter({ hasText: 'Chain intact' }).waitFor();
  });

  it('creates an agent and a key, and the key works with the SDK at once', async () => {
    await page.goto(`${gw.url}/console/tenants`);
    await settled(page, 'Tenants & keys');
    await page.getByLabel('Tenant', { exact: true }).selectOption('acme');
    const agentForm = page.getByRole('form', { name: 'Create an agent' });
    await agentForm.getByLabel('Team').selectOption('research');
    await agentForm.getByLabel('Agent id').fill('e2e-agent');
    await agentForm.getByRole('button', { name: 'Create agent' }).click();
    await agentForm.getByRole('status').filter({ hasText: 'Agent e2e-agent created' }).waitFor();

    const keyForm = page.getByRole('form', { name: 'Create a key' });
    await keyForm.getByLabel('Agent').selectOption('research/e2e-agent');
    await keyForm.getByRole('button', { name: 'Create key' }).click();
    const secretField = page.getByLabel('Secret', { exact: true });
    await secretField.waitFor();
    const secret = await secretField.inputValue();
    expect(secret).toMatch(/^omk_/);
    await screenshot(page, 'tenants-new-key');

    const answer = await ask(secret, 'Hello from the new agent.');
    expect(answer.choices[0]!.message.content).toBeTruthy();
    const record = (await gw.auditRecords()).filter((r) => r.agent_id === 'e2e-agent').at(-1);
    expect(record?.tenant_id).toBe('acme');
    // Shown once: after dismissing, the page has no trace of it.
    await page.getByRole('button', { name: 'I have stored it' }).click();
    expect(await page.content()).not.toContain(secret);
  });

  it('publishes a policy change and the next request is decided by it', async () => {
    const before = await ask(BOT_KEY, 'Tell me about the moonshot budget.');
    expect(before.choices[0]!.message.content).toBeTruthy();

    await page.goto(`${gw.url}/console/policies`);
    await settled(page, 'Policies');
    await page.getByLabel('Policy', { exact: true }).selectOption('everyday');
    const editor = page.getByLabel('Policy (YAML)');
    await expect.poll(() => editor.inputValue()).toContain('no-codenames');
    await editor.fill(['rules:', '  - id: no-codenames', '    terms: ["project orion", "moonshot"]', '    action: block', ''].join('\n'));
    await page.getByRole('button', { name: 'Validate' }).click();
    await page.getByRole('status').filter({ hasText: 'valid' }).waitFor();
    await page.getByLabel('Tenant', { exact: true }).fill('acme');
    await page.getByLabel('Model', { exact: true }).fill('gpt-test');
    await page.getByLabel('User message').fill('What is the moonshot budget?');
    await page.getByRole('button', { name: 'Dry run' }).click();
    await expect.poll(() => page.locator('.dry-result').textContent()).toMatch(/block/i);
    await page.getByRole('button', { name: 'Publish' }).click();
    await page.getByRole('status').filter({ hasText: 'Published version' }).waitFor();
    await screenshot(page, 'policies-published');

    const err = await refused(ask(BOT_KEY, 'Tell me about the moonshot budget.'));
    expect(err.status).toBe(403);
    expect((err.error as { code?: string }).code).toBe('policy_blocked');
  });

  it('shows a reviewer only the queue, and an auditor no writes', async () => {
    const reviewer = await browser.newContext({ viewport: LAPTOP });
    const rp = await reviewer.newPage();
    await signInWithToken(rp, REVIEWER);
    await settled(rp, 'Review queue');
    expect(await rp.getByRole('navigation', { name: 'Main' }).getByRole('link').allTextContents()).toEqual(['Review queue']);
    await rp.goto(`${gw.url}/console/tenants`);
    await rp.getByText('not available to the reviewer role').waitFor();
    await reviewer.close();

    const auditor = await browser.newContext({ viewport: LAPTOP });
    const ap = await auditor.newPage();
    await signInWithToken(ap, AUDITOR);
    await settled(ap, 'Overview');
    const links = await ap.getByRole('navigation', { name: 'Main' }).getByRole('link').allTextContents();
    expect(links).not.toContain('Review queue');
    expect(links).not.toContain('Tenants & keys');
    // Policies are readable, not writable: no publish, dry run or rollback.
    await ap.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Policies' }).click();
    await settled(ap, 'Policies');
    await ap.getByLabel('Policy (YAML)').waitFor();
    expect(await ap.getByLabel('Policy (YAML)').getAttribute('readonly')).not.toBeNull();
    expect(await ap.getByRole('button', { name: /Publish|Dry run|Roll back/ }).count()).toBe(0);
    await auditor.close();
  });

  it('signs out: the session is gone on the server too', async () => {
    const ctx = await browser.newContext({ viewport: LAPTOP });
    const p = await ctx.newPage();
    await signInWithToken(p, ADMIN);
    const cookie = (await ctx.cookies()).find((c) => c.name === 'omega_session')!;
    await p.getByRole('button', { name: 'Sign out' }).click();
    await settled(p, 'Sign in to OmegaEngine');
    // Replaying the old cookie gets nothing.
    const res = await fetch(`${gw.url}/admin/v1/session`, { headers: { cookie: `omega_session=${cookie.value}` } });
    expect(res.status).toBe(401);
    await ctx.close();
  });

  it('renders every main page at laptop and phone widths with no basic accessibility problem', async () => {
    const pages: [string, string | RegExp][] = [
      ['overview', 'Overview'],
      ['reviews', 'Review queue'],
      ['audit', 'Audit'],
      ['spend', 'Spend'],
      ['tenants', 'Tenants & keys'],
      ['policies', 'Policies'],
      ['providers', 'Providers'],
    ];
    const problems: Record<string, unknown> = {};
    // The sign-in page, as a signed-out visitor sees it.
    for (const viewport of [LAPTOP, PHONE]) {
      const visitor = await browser.newContext({ viewport });
      const p = await visitor.newPage();
      await p.goto(`${gw.url}/console/`);
      await settled(p, 'Sign in to OmegaEngine');
      await screenshot(p, 'sign-in');
      const found = await accessibilityProblems(p);
      if (found.length) problems[`sign-in@${viewport.width}`] = found;
      await visitor.close();
    }
    for (const viewport of [LAPTOP, PHONE]) {
      await page.setViewportSize(viewport);
      for (const [path, heading] of pages) {
        await page.goto(`${gw.url}/console/${path}`);
        await settled(page, heading);
        await screenshot(page, path);
        const found = await accessibilityProblems(page);
        if (found.length) problems[`${path}@${viewport.width}`] = found;
      }
    }
    // The phone layout folds the navigation behind a button that says whether it is open.
    const menu = page.getByRole('button', { name: 'Menu' });
    expect(await menu.getAttribute('aria-expanded')).toBe('false');
    await menu.click();
    expect(await menu.getAttribute('aria-expanded')).toBe('true');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit' }).click();
    await settled(page, 'Audit');
    // Focus moves to the new page's heading, for screen-reader and keyboard users.
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('page-title');
    expect(problems).toEqual({});
  }, 120_000);
});
