/** The per-request context of a request that reached Fastify, and of one that did not (bare socket). */
import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import type { FastifyRequest } from 'fastify';
import { RequestContext } from '../pipeline/context.js';

export function contextOf(request: FastifyRequest): RequestContext {
  const h = request.headers;
  const lang = h['x-stainless-lang'];
  const sdk = typeof lang === 'string' ? `${lang}/${String(h['x-stainless-package-version'] ?? '?').slice(0, 64)}` : null;
  // A static route's own pattern names the endpoint (one spelling whatever the case); else the canonical path.
  const pattern = request.is404 ? undefined : request.routeOptions.url;
  const path = pattern && !pattern.includes(':') && !pattern.includes('*') ? pattern : request.url.split('?')[0]!;
  return new RequestContext(
    request.id,
    path.slice(0, 2048),
    request.method,
    request.ip,
    typeof h['user-agent'] === 'string' ? h['user-agent'].slice(0, 256) : null,
    sdk,
  );
}

/** For a request the HTTP parser refused before Fastify saw it: only the peer address is known. */
export function socketContext(socket: Socket): RequestContext {
  return new RequestContext(`req_${randomUUID().replaceAll('-', '')}`, '(unparsed)', '(unparsed)', socket.remoteAddress ?? '', null, null);
}
