/**
 * Serves the web console (the Vite build in dist/console, made by `npm run build`) at /console:
 * hashed assets cached for a year, index.html for every other path so the single-page app's own
 * routes work on reload, and headers that keep the page from being framed, sniffed or made to
 * run inline script (the build has none). Without a build, /console says how to make one.
 * The sign-in routes under /console/auth/ belong to the session plugin; a path there that it
 * does not serve is an API 404, never the app's HTML.
 */
import { existsSync, statSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { GatewayError } from '../errors.js';

/** dist/console beside this module's package root (src/admin/ in development, dist/admin/ when built). */
export const DEFAULT_CONSOLE_DIR = fileURLToPath(new URL('../../dist/console', import.meta.url));

/** The page may load only its own scripts, styles and data; it may not be framed anywhere. */
const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=()',
};

/** Vite names every built asset after its content hash: such a file never changes. */
const HASHED_ASSET = 'public, max-age=31536000, immutable';
/** index.html names the current assets: always revalidated (its ETag makes that cheap). */
const REVALIDATE = 'no-cache';

export interface ConsoleOptions {
  /** The built console (default: dist/console of this package). */
  dir?: string;
}

export function consoleRoutes(app: FastifyInstance, options: ConsoleOptions = {}): void {
  const dir = resolve(options.dir ?? DEFAULT_CONSOLE_DIR);
  const index = join(dir, 'index.html');

  app.register(async (scope) => {
    // serve: false: only reply.sendFile (with ETag, ranges, HEAD); the routes below decide what is served.
    await scope.register(fastifyStatic, { root: dir, serve: false });

    const send = (reply: FastifyReply, file: string, cacheControl: string) =>
      reply.headers(SECURITY_HEADERS).header('cache-control', cacheControl).sendFile(file, dir, { cacheControl: false, dotfiles: 'deny' });

    const notBuilt = (reply: FastifyReply) =>
      reply
        .code(503)
        .headers(SECURITY_HEADERS)
        .header('cache-control', 'no-store')
        .type('text/plain; charset=utf-8')
        .send(`The console is not built: ${index} is missing.\nRun \`npm run build\` (it builds the gateway and the console), then restart the gateway.\n`);

    scope.get('/console', async (request, reply) => {
      const q = request.url.indexOf('?');
      return reply.redirect(`/console/${q === -1 ? '' : request.url.slice(q)}`, 302);
    });

    scope.get<{ Params: { '*': string } }>('/console/*', async (request, reply) => {
      const rel = request.params['*'] ?? '';
      if (/^auth(\/|$)/i.test(rel)) throw new GatewayError('unknown_endpoint', `Unknown endpoint: ${request.method} /console/${rel.slice(0, 200)}.`);
      if (!existsSync(index)) return notBuilt(reply);
      const file = rel === '' ? null : resolve(dir, rel);
      const inside = file !== null && file.startsWith(dir + sep);
      const isFile = inside && existsSync(file) && statSync(file).isFile();
      if (/^assets\//.test(rel)) {
        // A missing asset is a 404, not the app: a stale page must not get HTML for its script.
        if (!isFile) return reply.code(404).headers(SECURITY_HEADERS).header('cache-control', 'no-store').type('text/plain; charset=utf-8').send('Not found.\n');
        return send(reply, rel, HASHED_ASSET);
      }
      if (isFile) return send(reply, rel, REVALIDATE);
      // Every other path is one of the app's own pages: it routes on the client.
      return send(reply, 'index.html', REVALIDATE);
    });
  });
}
