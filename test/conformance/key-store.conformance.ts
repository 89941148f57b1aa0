import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { KeyStore } from '../../src/store/types.js';
import type { Backend, OpenBackend } from './backends.js';

/** What every KeyStore must do. */
export function keyStoreConformance(open: OpenBackend): void {
  describe('KeyStore', () => {
    let backend: Backend;
    let keys: KeyStore;
    beforeEach(async () => {
      backend = await open();
      keys = backend.stores.keys;
    });
    afterEach(() => backend.close());

    const key = (id: string, tenantId = 'acme', createdAt = 1_700_000_000_000) => ({ id, hash: `hash_${id}`, tenantId, agentId: 'bot', hint: `omk_…${id}`, createdAt: new Date(createdAt), revokedAt: null, expiresAt: null });

    it('finds a created key by its hash, and nothing for an unknown hash', async () => {
      await keys.create(key('k1'));
      expect(await keys.findByHash('hash_k1')).toEqual(key('k1'));
      expect(await keys.findByHash('nope')).toBeUndefined();
    });

    it('reads a key by id, with its expiry', async () => {
      const expiresAt = new Date(1_900_000_000_000);
      await keys.create({ ...key('k1'), expiresAt });
      expect(await keys.get('k1')).toEqual({ ...key('k1'), expiresAt });
      expect((await keys.findByHash('hash_k1'))?.expiresAt).toEqual(expiresAt);
      expect(await keys.get('missing')).toBeUndefined();
    });

    it('refuses a second key with the same hash', async () => {
      await keys.create(key('k1'));
      await expect(keys.create({ ...key('k2'), hash: 'hash_k1' })).rejects.toThrow();
    });

    it('lists keys oldest first, optionally for one tenant', async () => {
      await keys.create(key('k2', 'globex', 2000));
      await keys.create(key('k1', 'acme', 1000));
      await keys.create(key('k3', 'acme', 3000));
      expect((await keys.list()).map((k) => k.id)).toEqual(['k1', 'k2', 'k3']);
      expect((await keys.list({ tenantId: 'acme' })).map((k) => k.id)).toEqual(['k1', 'k3']);
    });

    it('revokes an active key once, keeping the time', async () => {
      await keys.create(key('k1'));
      const at = new Date(1_800_000_000_000);
      expect(await keys.revoke('k1', at)).toBe(true);
      expect(await keys.revoke('k1')).toBe(false);
      expect(await keys.revoke('missing')).toBe(false);
      expect((await keys.findByHash('hash_k1'))?.revokedAt).toEqual(at);
    });
  });
}
