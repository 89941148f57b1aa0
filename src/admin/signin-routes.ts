/**
 * Console sign-in under /console/auth: an admin token or OpenID Connect in, a session cookie out
 * (`omega_session`: http-only, SameSite=Lax, Path=/, Secure unless the request is plain http
 * from loopback). The session's CSRF token comes back with the sign-in and from
 * GET /admin/v1/session; writes with the cookie must send it as `x-csrf-token`.
 */
import { isIP } from 'node:net';
import { fastifyCookie } from '@fastify/cookie';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { GatewayDeps } from '../app.js';
import type { EdgeGuard } from '../edge/guard.js';
import { contextOf } from '../edge/request-context.js';
import { GatewayError, toOpenAIError } from '../errors.js';
import { OidcClient, SignInRefused, TRANSACTION_COOKIE, TRANSACTION_TTL_MS } from './oidc.js';
import { adminTokenLookup, type AdminPrincipal } from './principal.js';
import { csrfMatches, SESSION_COOKIE, sessionCookieOf, type ConsoleSessions } from './sessions.js';

export const SIGNIN_PREFIX = '/console/auth';
const PURGE_EVERY_MS = 3_600_000;

const TokenBody = z.object({ token: z.string().min(1).max(1024) }).strict();

/** Where the browser goes after an OIDC sign-in. */
const CONSOLE_HOME = '/console/';
const OIDC_PATH = `${SIGNIN_PREFIX}/oidc`;

/**
 * Registers the sign-in routes and an hourly purge of expired sessions.
 * @example
 * const sessions = new ConsoleSessions(deps.stores.sessions, sessionSettings(config));
 * signinRoutes(app, deps, edge, sessions);
 */
export function signinRoutes(app: FastifyInstance, deps: Pick<GatewayDeps, 'config' | 'logger'>, edge: EdgeGuard, sessions: ConsoleSessions): void {
  const { config } = deps;
  const lookupToken = adminTokenLookup(config);
  const oidc = config.admin.oidc ? new OidcClient(config.admin.oidc) : undefined;

  const purge = setInterval(() => {
    sessions.purgeExpired().catch((err: unknown) => deps.logger.warn({ err }, 'purging expired console sessions failed'));
  }, PURGE_EVERY_MS);
  purge.unref();
  app.addHook('onClose', async () => clearInterval(purge));

  app.register(
    async (auth) => {
      // Cookie parsing and setting for these routes only (the plugin's hook stays off /v1).
      await auth.register(fastifyCookie);
      auth.addHook('onSend', async (_request, reply) => {
        reply.header('cache-control', 'no-store');
      });

      auth.post('/token', async (request, reply) => {
        const parsed = TokenBody.safeParse(request.body);
        if (!parsed.success) throw new GatewayError('invalid_request', 'The body must be {"token": "<an admin token>"}.', { param: 'token' });
        const presented = parsed.data.token;
        // Throttled like bearer admin tokens: per client IP and token prefix.
        const prefix = edge.throttle.prefixOf(presented);
        try {
          edge.throttle.check(request.ip, prefix);
          const principal = lookupToken(presented);
          if (!principal) {
            edge.throttle.fail(request.ip, prefix);
            throw new GatewayError('admin_unauthenticated', config.admin.tokens.length === 0 ? 'No admin tokens are configured (admin.tokens).' : 'Incorrect admin token.');
          }
          const started = await sessions.start(principal);
          setSessionCookie(request, reply, started.id, started.maxAgeSeconds);
          return { principal, csrf_token: started.csrfToken };
        } catch (err) {
          // Refusals are rendered and audited (by sample) like the admin API's.
          request.ctx ??= contextOf(request);
          throw err;
        }
      });

      auth.get('/config', async () => ({ oidc: { enabled: oidc !== undefined, name: oidc?.settings.name ?? null } }));

      auth.get('/oidc/login', async (request, reply) => {
        if (!oidc) throw new GatewayError('not_found', 'OpenID Connect sign-in is not configured (admin.oidc).');
        const { url, cookie } = await oidc.login();
        reply.setCookie(TRANSACTION_COOKIE, cookie, { ...cookieAttributes(request), path: OIDC_PATH, maxAge: TRANSACTION_TTL_MS / 1000 });
        return reply.redirect(url.href, 302);
      });

      auth.get('/oidc/callback', async (request, reply) => {
        if (!oidc) throw new GatewayError('not_found', 'OpenID Connect sign-in is not configured (admin.oidc).');
        const query = new URLSearchParams(request.url.split('?')[1] ?? '');
        const sealed = request.cookies[TRANSACTION_COOKIE];
        // The transaction is single-use whatever happens next.
        reply.clearCookie(TRANSACTION_COOKIE, { ...cookieAttributes(request), path: OIDC_PATH });
        let principal: AdminPrincipal;
        try {
          principal = await oidc.callback(query, sealed);
        } catch (err) {
          if (!(err instanceof SignInRefused)) throw err;
          request.log.info({ reason: err.message }, 'console sign-in refused');
          return refuse(request, reply, new GatewayError(err.code, err.message));
        }
        const started = await sessions.start(principal);
        setSessionCookie(request, reply, started.id, started.maxAgeSeconds);
        return reply.redirect(CONSOLE_HOME, 302);
      });

      auth.post('/logout', async (request, reply) => {
        const id = sessionCookieOf(request);
        if (id !== undefined) {
          const live = await sessions.resolve(id);
          // A live session is ended only by its own console (CSRF token), like any other write.
          if (live && !csrfMatches(request.headers['x-csrf-token'], live.csrfToken)) {
            throw new GatewayError('csrf_failed', 'Missing or wrong x-csrf-token header: sign-out must send the session\'s CSRF token.');
          }
          await sessions.end(id);
        }
        reply.clearCookie(SESSION_COOKIE, { ...cookieAttributes(request), path: '/' });
        return reply.code(204).send();
      });
    },
    { prefix: SIGNIN_PREFIX },
  );
}

/** The session settings of `admin.sessions`. */
export function sessionSettings(config: Pick<GatewayDeps['config'], 'admin'>): ConsoleSessions['settings'] {
  const s = config.admin.sessions;
  return { idleTimeoutMs: s.idle_timeout, absoluteTimeoutMs: s.absolute_timeout, cacheTtlMs: s.cache_ttl };
}

function setSessionCookie(request: FastifyRequest, reply: FastifyReply, id: string, maxAgeSeconds: number): void {
  reply.setCookie(SESSION_COOKIE, id, { ...cookieAttributes(request), path: '/', maxAge: maxAgeSeconds });
}

function cookieAttributes(request: FastifyRequest): { httpOnly: true; sameSite: 'lax'; secure: boolean } {
  // Browsers accept a cookie without Secure only over plain http; that is allowed on loopback only.
  return { httpOnly: true, sameSite: 'lax', secure: !(request.protocol === 'http' && isLoopback(request.ip)) };
}

function isLoopback(ip: string): boolean {
  if (isIP(ip) === 4) return ip.startsWith('127.');
  return ip === '::1' || ip.startsWith('::ffff:127.');
}

/** A refused OIDC sign-in: a small page for the browser, the OpenAI error shape for anything else. */
function refuse(request: FastifyRequest, reply: FastifyReply, err: GatewayError): FastifyReply {
  const { status, body } = toOpenAIError(err);
  if (!(request.headers.accept ?? '').includes('text/html')) return reply.code(status).send(body);
  const title = err.code === 'admin_forbidden' ? 'No access to the console' : 'Sign-in failed';
  const page = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${title} · OmegaEngine</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#1a1a1a}h1{font-size:1.4rem}a{color:#0b57d0}</style></head>
<body><main><h1>${title}</h1><p role="alert">${escapeHtml(err.message)}</p><p><a href="${CONSOLE_HOME}">Back to the console sign-in</a></p></main></body></html>`;
  return reply.code(status).header('content-type', 'text/html; charset=utf-8').header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'").send(page);
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
