/**
 * Reloading the deployment file: SIGHUP and a file change swap the configuration snapshot; a
 * request in flight finishes on the snapshot it started with; a broken file is refused and the
 * configuration in force stays.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai-upstream.js';
import { baseConfig, startTestGateway, type TestGateway } from '../support/gateway.js';
import { refused, waitFor } from '../support/requests.js';
import { ADMIN_TOKENS_YAML, TOKENS } from '../admin/harness.js';
import { spawn } from 'node:child_process';

let upstream: FakeOpenAI;
let gw: TestGateway;
let file: string;

beforeAll(async () => {
  upstream = await startFakeOpenAI();
  gw = await startTestGateway(baseConfig(upstream.baseUrl, ADMIN_TOKENS_YAML), {}, { reloadOn: { sighup: true } });
  file = join(gw.dir, 'omega.yaml');
});
afterAll(async () => {
  await gw?.stop();
  await upstream?.close();
});

/** Rewrites the deployment file with one textual change. */
function edit(from: string, to: string): void {
  const text = readFileSync(file, 'utf8');
  expect(text).toContain(from);
  writeFileSync(file, text.replace(from, to));
}

describe('configuration reload', () => {
  it('on SIGHUP swaps the snapshot while a streaming request in flight finishes on the old one', async () => {
    const before = gw.runtime.holder.current;
    const generation = gw.runtime.holder.generation;
    const { data: stream, response } = await gw
      .client()
      .chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'long [gate] story' }], stream: true, stream_options: { include_usage: true } })
      .withResponse();
    const inFlight = response.headers.get('x-omega-decision-id')!;
    const iterator = stream[Symbol.asyncIterator]();
    await iterator.next();

    // The price of gpt-test goes up 100-fold and it now runs on another upstream model.
    edit('gpt-test: { provider: fake-openai, model: gpt-upstream, retries: 0, price: { input: 2, output: 8 } }', 'gpt-test: { provider: fake-openai, model: gpt-upstream-v2, retries: 0, price: { input: 200, output: 800 } }');
    process.kill(process.pid, 'SIGHUP');
    await waitFor(() => gw.runtime.holder.generation > generation, 'the reload', 10_000);
    const after = gw.runtime.holder.current;
    expect(after.version).not.toBe(before.version);

    // A new request is routed by the new snapshot...
    const fresh = await gw.client().chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] }).withResponse();
    expect(upstream.requests.at(-1)!.body.model).toBe('gpt-upstream-v2');
    const freshRecord = await waitFor(() => gw.auditRecord(fresh.response.headers.get('x-omega-decision-id')!), 'the new record');
    expect(freshRecord.config_version).toBe(after.version);

    // ...while the one in flight ends normally, priced and recorded under the old one.
    upstream.release();
    let text = '';
    for (let r = await iterator.next(); !r.done; r = await iterator.next()) text += r.value.choices[0]?.delta.content ?? '';
    expect(text).toBe('Echo: long [gate] story');
    const old = await waitFor(() => gw.auditRecord(inFlight), 'the in-flight record');
    expect(old.config_version).toBe(before.version);
    expect(old.http_status).toBe(200);
    const perToken = (r: typeof old) => r.cost_usd / ((r.input_tokens ?? 0) * 2 + (r.output_tokens ?? 0) * 8);
    expect(perToken(old) * 1e6).toBeCloseTo(1, 5); // the old prices (2 and 8 USD per million)
    expect(freshRecord.cost_usd / ((freshRecord.input_tokens ?? 0) * 200 + (freshRecord.output_tokens ?? 0) * 800) * 1e6).toBeCloseTo(1, 5);
  });

  it('reloads when the file changes (watched, debounced)', async () => {
    gw.runtime.watchFile(50);
    const generation = gw.runtime.holder.generation;
    await gw.client().chat.completions.create({ model: 'fast', messages: [{ role: 'user', content: 'hi' }] });
    edit('aliases: { fast: gpt-test }', 'aliases: { quick: gpt-test }');
    await waitFor(() => gw.runtime.holder.generation > generation, 'the file watcher to reload', 10_000);
    const err = await refused(gw.client().chat.completions.create({ model: 'fast', messages: [{ role: 'user', content: 'hi' }] }));
    expect(err.status).toBe(404);
    await gw.client().chat.completions.create({ model: 'quick', messages: [{ role: 'user', content: 'hi' }] });
  });

  it('refuses a broken file, keeping the snapshot in force', async () => {
    const before = gw.runtime.holder.current;
    const good = readFileSync(file, 'utf8');
    // Valid YAML, invalid configuration: an alias to a model that does not exist.
    writeFileSync(file, good.replace('aliases: { quick: gpt-test }', 'aliases: { quick: no-such-model }'));
    const result = await gw.runtime.reloadFile('test');
    expect(result.applied).toBe(false);
    expect(result.applied === false && result.problems.join('\n')).toMatch(/alias targets unknown model "no-such-model"/);
    writeFileSync(file, 'tenants: [ this is : not : yaml');
    const broken = await gw.runtime.reloadFile('test');
    expect(broken.applied).toBe(false);
    expect(gw.runtime.holder.current).toBe(before);
    await gw.client().chat.completions.create({ model: 'quick', messages: [{ role: 'user', content: 'still served' }] });
    writeFileSync(file, good);
  });

  it('`omega config apply FILE` validates, installs the file and makes the gateway load it', async () => {
    const next = join(gw.dir, 'next.yaml');
    writeFileSync(next, readFileSync(file, 'utf8').replace('aliases: { quick: gpt-test }', 'aliases: { applied: gpt-test }'));
    const run = (args: string[]) =>
      new Promise<{ code: number | null; out: string }>((resolve) => {
        const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '../../src/cli/index.ts'), 'config', 'apply', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr.on('data', (d: Buffer) => (out += d.toString()));
        child.on('exit', (code) => resolve({ code, out }));
      });
    const broken = join(gw.dir, 'broken.yaml');
    writeFileSync(broken, readFileSync(next, 'utf8').replace('applied: gpt-test', 'applied: no-such-model'));
    const refusedRun = await run([broken, '--config', file]);
    expect(refusedRun.code).not.toBe(0);
    expect(refusedRun.out).toMatch(/no-such-model/);
    expect(readFileSync(file, 'utf8')).not.toContain('no-such-model');

    const ok = await run([next, '--config', file, '--url', gw.url, '--token', TOKENS.admin]);
    expect(ok.out).toMatch(/runs version/);
    expect(ok.code).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(readFileSync(next, 'utf8'));
    await gw.client().chat.completions.create({ model: 'applied', messages: [{ role: 'user', content: 'applied' }] });
  }, 180_000);
});
