import pg from 'pg';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../errors.js';
import { createServer } from 'node:net';
import { guardStores, isStoreUnreachable, StoreAvailability } from './availability.js';

const silent = pino({ level: 'silent' });

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  return port;
}

describe('isStoreUnreachable', () => {
  it('tells a database that is not there from a query that is wrong', async () => {
    // A real refused connection from the real driver.
    const client = new pg.Client({ host: '127.0.0.1', port: await freePort(), connectionTimeoutMillis: 2000 });
    const refused = await client.connect().then(
      () => null,
      (err: unknown) => err,
    );
    expect(isStoreUnreachable(refused)).toBe(true);
    for (const err of [
      Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }),
      Object.assign(new Error('the database system is starting up'), { code: '57P03' }),
      Object.assign(new Error('could not connect'), { code: '08006' }),
      new Error('Connection terminated unexpectedly'),
      new Error('timeout exceeded when trying to connect'),
      Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR_WRITE' }),
    ])
      expect(isStoreUnreachable(err), err.message).toBe(true);
    for (const err of [
      Object.assign(new Error('duplicate key value violates unique constraint'), { code: '23505' }),
      Object.assign(new Error('syntax error'), { code: '42601' }),
      Object.assign(new Error('attempt to write a readonly database'), { code: 'SQLITE_READONLY' }),
      new GatewayError('invalid_request', 'bad'),
      null,
    ])
      expect(isStoreUnreachable(err)).toBe(false);
  });
});

describe('StoreAvailability', () => {
  it('goes down on a connection failure, fails fast meanwhile, and comes back by itself, running its recovery hooks', async () => {
    let reachable = true;
    let calls = 0;
    const availability = new StoreAvailability('postgres', 'open', async () => {
      if (!reachable) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    }, silent);
    const recovered: number[] = [];
    availability.onRecovery(() => recovered.push(Date.now()));
    const stores = guardStores(
      {
        keys: {
          async list() {
            calls++;
            if (!reachable) throw Object.assign(new Error('Connection terminated unexpectedly'), {});
            return ['k'];
          },
          async broken() {
            throw Object.assign(new Error('syntax error'), { code: '42601' });
          },
        },
        ping: async () => {},
        close: async () => {},
      },
      availability,
    );
    expect(await stores.keys.list()).toEqual(['k']);
    // A query error is not an outage.
    await expect(stores.keys.broken()).rejects.toMatchObject({ code: '42601' });
    expect(availability.down).toBe(false);

    reachable = false;
    await expect(stores.keys.list()).rejects.toMatchObject({ code: 'store_unavailable', status: 503 });
    expect(availability.down).toBe(true);
    expect(await availability.check()).toMatchObject({ state: 'down', mode: 'open' });
    // While down, calls do not reach the database at all.
    const before = calls;
    await expect(stores.keys.list()).rejects.toBeInstanceOf(GatewayError);
    expect(calls).toBe(before);
    expect(availability.decide('keys')).toBe(true);
    expect(availability.decide('keys', false)).toBe(false);
    expect(Object.fromEntries(availability.decisions)).toEqual({ 'keys|served': 1, 'keys|refused': 1 });

    reachable = true;
    const deadline = Date.now() + 5000;
    while (availability.down && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(availability.down).toBe(false);
    expect(recovered).toHaveLength(1);
    expect(await stores.keys.list()).toEqual(['k']);
    availability.close();
  });

  it('closed mode refuses every decision', () => {
    const availability = new StoreAvailability('postgres', 'closed', async () => {}, silent);
    expect(availability.decide('audit')).toBe(false);
    expect(availability.decide('responses')).toBe(false);
    expect(Object.fromEntries(availability.decisions)).toEqual({ 'audit|refused': 1, 'responses|refused': 1 });
  });
});
