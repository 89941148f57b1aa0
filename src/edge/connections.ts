/**
 * Connection limits of the listener: a total cap (Node's `server.maxConnections`: beyond it new
 * sockets are closed at once) and a cap per client address, counted here. A connection over the
 * per-address cap gets a 503 in the OpenAI shape and is closed before any request is read.
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { toOpenAIError, GatewayError } from '../errors.js';

export interface ConnectionLimits {
  maxConnections: number;
  maxPerIp: number;
  /** Called once per refused connection (metrics). */
  onRefused: () => void;
}

export function limitConnections(server: Server, limits: ConnectionLimits): void {
  server.maxConnections = limits.maxConnections;
  const open = new Map<string, number>();
  const body = JSON.stringify(toOpenAIError(new GatewayError('too_many_connections', 'Too many open connections from this address.')).body);
  const refusal = `HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nretry-after: 1\r\nconnection: close\r\n\r\n${body}`;
  server.on('connection', (socket: Socket) => {
    const ip = socket.remoteAddress ?? '';
    const n = (open.get(ip) ?? 0) + 1;
    if (n > limits.maxPerIp) {
      limits.onRefused();
      socket.end(refusal);
      socket.destroySoon();
      return;
    }
    open.set(ip, n);
    socket.once('close', () => {
      const left = (open.get(ip) ?? 1) - 1;
      if (left <= 0) open.delete(ip);
      else open.set(ip, left);
    });
  });
}
