/**
 * The console's static serving at /console, through the real gateway: the built app, its SPA
 * fallback, cache and security headers, what a missing asset or an unknown /console/auth path
 * gets, and the message when the console was never built.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consoleRoutes } from '../../src/admin/console-static.js';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai-upstream.js';
import { ensureConsoleBuilt } from '../support/console-build.js';
import { baseConfig, startTestGateway, type TestGateway } from '../support/gateway.js';

let upstream: FakeOpenAI;
let gw: TestGateway;

beforeAll(async () => {
  await ensureConsoleBuilt();
  upstream = await startFakeOpenAI();
  gw = await startTestGateway(baseConfig(upstream.baseUrl));
}, 120_000);

afterAll(async () => {
  await gw?.stop();
  await upstream?.close();
});

function expectSecurityHeaders(headers: Headers): void {
  const csp = headers.get('content-security-policy') ?? '';
  expect(csp).toContain("script-src 'self'");
  expect(csp).not.toContain('unsafe-inline');
  expect(csp).toContain("frame-ancestors 'none'");
  expect(headers.get('x-frame-options')).toBe('DENY');
  expect(headers.get('x-content-type-options')).toBe('nosniff');
}

describe('/console', () => {
  it('redirects /console to /console/ and serves the app there, revalidated on every load', async () => {
    const redirect = await fetch(`${gw.url}/console?x=1`, { redirect: 'manual' });
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get('location')).toBe('/console/?x=1');

    const res = await fetch(`${gw.url}/console/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(res.headers.get('etag')).toBeTruthy();
    expectSecurityHeaders(res.headers);
    const html = await res.text();
    expect(html).toContain('<div id="root"></div>');
    // No inline script: every <script> has a src.
    for (const tag of html.match(/<script[^>]*>/g) ?? []) expect(tag).toMatch(/\ssrc="\/console\/assets\//);
  });

  it('answers the app for its own routes (reload on a deep link works)', async () => {
    const res = await fetch(`${gw.url}/console/reviews/rv_123`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('<div id="root"></div>');
    expectSecurityHeaders(res.headers);
  });

  it('serves hashed assets with a year-long immutable cache, and 404s a missing one', async () => {
    const assets = readdirSync(join(import.meta.dirname, '../../dist/console/assets'));
    const js = assets.find((a) => a.endsWith('.js'))!;
    const res = await fetch(`${gw.url}/console/assets/${js}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/javascript/);
    expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    await res.arrayBuffer();

    const missing = await fetch(`${gw.url}/console/assets/index-00000000.js`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toMatch(/^text\/plain/);
  });

  it('never serves a file outside the build, whatever the path spelling', async () => {
    for (const path of ['/console/../package.json', '/console/%2e%2e/package.json', '/console/assets/..%2f..%2fpackage.json', '/console/..%5cpackage.json']) {
      const res = await fetch(`${gw.url}${path}`);
      const text = await res.text();
      expect(text, path).not.toContain('"name": "omegaengine-gateway"');
    }
  });

  it('answers unknown /console/auth paths as an API 404, not with the app', async () => {
    const res = await fetch(`${gw.url}/console/auth/nothing-here`);
    expect(res.status).toBe(404);
    const body = (await res.json()) as { error: { code: string } };
    expect(body.error.code).toBe('unknown_endpoint');
  });
});

describe('/console without a build', () => {
  const dir = mkdtempSync(join(tmpdir(), 'omega-console-'));
  const app = Fastify();
  consoleRoutes(app, { dir });
  afterAll(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('says the console is not built and how to build it', async () => {
    const res = await app.inject({ method: 'GET', url: '/console/overview' });
    expect(res.statusCode).toBe(503);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.body).toContain('The console is not built');
    expect(res.body).toContain('npm run build');
    expect(res.headers['x-frame-options']).toBe('DENY');
  });
});

describe('the built console', () => {
  it('ships no source maps and no inline script', () => {
    const dist = join(import.meta.dirname, '../../dist/console');
    const files = readdirSync(join(dist, 'assets'));
    expect(files.some((f) => f.endsWith('.map'))).toBe(false);
    expect(readFileSync(join(dist, 'index.html'), 'utf8')).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
  });
});
