import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../config/load.js';
import { openStores, storageKind } from './open-stores.js';

describe('storage.url', () => {
  it('names the back end by scheme', () => {
    expect(storageKind('sqlite://./data/omega.db')).toBe('sqlite');
    expect(storageKind('postgres://gw@db:5432/omega')).toBe('postgres');
    expect(storageKind('postgresql://gw@db/omega')).toBe('postgres');
  });

  it('refuses other schemes without echoing a password', () => {
    expect(() => storageKind('mysql://gw:s3cret-pw@db/omega')).toThrow(/must be sqlite:\/\/PATH or postgres:\/\//);
    expect(() => storageKind('mysql://gw:s3cret-pw@db/omega')).not.toThrow(/s3cret-pw/);
  });

  it('is validated by the configuration schema, with pool_size for PostgreSQL', () => {
    const cfg = parseConfigText('storage: { url: "postgres://gw@db/omega", pool_size: 25 }\n', 'omega.yaml', {});
    expect(cfg.storage).toEqual({ url: 'postgres://gw@db/omega', pool_size: 25, on_unavailable: 'open' });
    expect(() => parseConfigText('storage: { url: "redis://cache" }\n', 'omega.yaml', {})).toThrow(/storage\.url/);
  });

  it('opens every store on a SQLite file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'omega-open-'));
    try {
      const stores = await openStores(`sqlite://${join(dir, 'omega.db')}`, { durability: 'strict' });
      expect(stores.kind).toBe('sqlite');
      await stores.ping();
      expect(await stores.keys.list()).toEqual([]);
      expect(await stores.auditQuery.chains()).toEqual([]);
      await stores.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails to open an unreachable PostgreSQL with the driver\'s error', async () => {
    await expect(openStores('postgres://nobody@127.0.0.1:9/omega', { poolSize: 1 })).rejects.toThrow(/ECONNREFUSED|connect/);
  });
});
