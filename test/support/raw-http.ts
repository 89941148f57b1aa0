/** HTTP/1.1 over a bare `node:net` socket, for requests no client library would send as written. */
import { connect, type Socket } from 'node:net';

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Parses the first response on a socket's received bytes (Content-Length or until close). */
export function parseResponse(raw: string): RawResponse | undefined {
  const end = raw.indexOf('\r\n\r\n');
  if (end === -1) return undefined;
  const [statusLine, ...lines] = raw.slice(0, end).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const i = line.indexOf(':');
    headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return { status: Number(statusLine!.split(' ')[1]), headers, body: raw.slice(end + 4) };
}

export function openSocket(url: string): Promise<Socket> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Sends `head` (and `body`) exactly as given, with Connection: close, and reads the answer. */
export async function rawRequest(url: string, method: string, path: string, headers: Record<string, string> = {}, body = ''): Promise<RawResponse> {
  const socket = await openSocket(url);
  const lines = [`${method} ${path} HTTP/1.1`, `host: ${new URL(url).host}`, 'connection: close'];
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  if (body) lines.push(`content-length: ${Buffer.byteLength(body)}`);
  socket.write(`${lines.join('\r\n')}\r\n\r\n${body}`);
  let received = '';
  socket.on('data', (d: Buffer) => (received += d.toString('utf8')));
  await new Promise<void>((resolve) => socket.on('close', () => resolve()));
  const res = parseResponse(received);
  if (!res) throw new Error(`no HTTP response: ${JSON.stringify(received.slice(0, 200))}`);
  return res;
}
