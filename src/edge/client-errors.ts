/**
 * The answers the HTTP layer gives before (or instead of) a route: a request line or headers
 * Node cannot parse, headers too large, a request (headers or body) not received within
 * `server.request_timeout`, a URL Fastify cannot decode. Each is a catalog error in the OpenAI
 * shape with the x-omega-* headers, and is audited (as a sampled refusal when unauthenticated).
 */
import { STATUS_CODES, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { GatewayError, toOpenAIError } from '../errors.js';
import type { RequestContext } from '../pipeline/context.js';
import { omegaHeaders, sendError } from '../pipeline/respond.js';
import type { EdgeGuard } from './guard.js';
import { contextOf, socketContext } from './request-context.js';

/** The context of the request a socket is receiving, so a body-read timeout can be audited with it. */
export const receiving = new WeakMap<Socket, RequestContext>();

function errorFor(code: string | undefined): GatewayError {
  switch (code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new GatewayError('request_timeout', 'The request was not received in time (server.request_timeout).');
    case 'HPE_HEADER_OVERFLOW':
      return new GatewayError('headers_too_large', 'The request line or headers are larger than the gateway accepts.');
    case 'HPE_URI_TOO_LONG':
      return new GatewayError('uri_too_long', 'The request URL is longer than the gateway accepts.');
    default:
      return new GatewayError('invalid_request', 'The request is not valid HTTP.');
  }
}

/** Fastify's `clientErrorHandler`: Node's parser or timers refused the connection's current request. */
export function clientErrorHandler(guard: EdgeGuard): (err: Error & { code?: string }, socket: Socket) => void {
  return (err, socket) => {
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    const ctx = receiving.get(socket) ?? socketContext(socket);
    receiving.delete(socket);
    const gw = errorFor(err.code);
    ctx.error = gw;
    ctx.httpStatus = gw.status;
    ctx.outcome = 'BLOCK';
    const response = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
    if (socket.writable && !response?.headersSent) {
      const body = JSON.stringify(toOpenAIError(gw).body);
      const headers: Record<string, string> = { ...omegaHeaders(ctx), 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(body)), connection: 'close' };
      if (!gw.retryable) headers['x-should-retry'] = 'false';
      const head = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
      socket.end(`HTTP/1.1 ${gw.status} ${STATUS_CODES[gw.status]}\r\n${head}\r\n${body}`);
      socket.destroySoon();
    } else {
      socket.destroy();
    }
    // Audited now; whatever Fastify still does with this request (its body read fails) finds it audited.
    guard.audit(ctx);
  };
}

/** Fastify's `frameworkErrors`: a URL it cannot decode (FST_ERR_BAD_URL) and the like. */
export function frameworkErrors(guard: EdgeGuard): (err: Error & { code?: string }, request: FastifyRequest, reply: FastifyReply) => void {
  return (err, request, reply) => {
    const ctx = (request.ctx ??= contextOf(request));
    const gw = err.code === 'FST_ERR_BAD_URL' ? new GatewayError('invalid_request', 'The request URL is malformed.') : new GatewayError('invalid_request', 'The request could not be routed.');
    sendError(reply, ctx, gw);
    guard.audit(ctx);
  };
}
