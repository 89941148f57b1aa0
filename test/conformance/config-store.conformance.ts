import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ConfigStore, StoredEntity } from '../../src/store/types.js';

export type OpenConfigStore = () => Promise<{ store: ConfigStore; close(): Promise<void> }>;

/** What every ConfigStore must do (SQLite, PostgreSQL, memory). */
export function configStoreConformance(open: OpenConfigStore): void {
  describe('ConfigStore', () => {
    let handle: Awaited<ReturnType<OpenConfigStore>>;
    let store: ConfigStore;
    beforeEach(async () => {
      handle = await open();
      store = handle.store;
    });
    afterEach(() => handle.close());

    const entity = (kind: StoredEntity['kind'], id: string, body: Record<string, unknown> = {}, at = 1_700_000_000_000): StoredEntity => ({
      kind,
      id,
      tenantId: kind === 'model' ? null : id.split('/')[0]!,
      body,
      actor: 'root',
      createdAt: at,
      updatedAt: at,
    });

    it('starts empty at revision 0', async () => {
      expect(await store.load()).toEqual({ revision: 0, entities: [], credentials: [] });
      expect(await store.revision()).toBe(0);
    });

    it('stores entities by kind and id, each write increasing the revision', async () => {
      const r1 = await store.put(entity('tenant', 'initech', { name: 'Initech', models: ['gpt-test'] }));
      const r2 = await store.put(entity('agent', 'initech/bot', { team: 'core' }));
      const r3 = await store.put(entity('model', 'gpt-new', { provider: 'p', price: { input: 1, output: 2 } }));
      expect([r1, r2, r3]).toEqual([1, 2, 3]);
      expect(await store.revision()).toBe(3);
      expect(await store.get('tenant', 'initech')).toEqual(entity('tenant', 'initech', { name: 'Initech', models: ['gpt-test'] }));
      expect(await store.get('tenant', 'initech/bot')).toBeUndefined();
      expect(await store.get('model', 'gpt-new')).toMatchObject({ tenantId: null, body: { provider: 'p', price: { input: 1, output: 2 } } });
      const loaded = await store.load();
      expect(loaded.revision).toBe(3);
      expect(loaded.entities.map((e) => `${e.kind}:${e.id}`)).toEqual(['agent:initech/bot', 'model:gpt-new', 'tenant:initech']);
    });

    it('replaces an entity, keeping its creation time', async () => {
      await store.put(entity('tenant', 'initech', { name: 'A' }, 1000));
      await store.put({ ...entity('tenant', 'initech', { name: 'B' }, 2000), actor: 'ops' });
      expect(await store.get('tenant', 'initech')).toEqual({ ...entity('tenant', 'initech', { name: 'B' }, 2000), createdAt: 1000, actor: 'ops' });
      expect((await store.load()).entities).toHaveLength(1);
    });

    it('deletes an entity once; deleting nothing leaves the revision alone', async () => {
      await store.put(entity('alias', 'initech/fast', { model: 'gpt-test' }));
      expect(await store.delete('alias', 'initech/fast')).toBe(2);
      expect(await store.delete('alias', 'initech/fast')).toBeNull();
      expect(await store.revision()).toBe(2);
      expect(await store.get('alias', 'initech/fast')).toBeUndefined();
    });

    it('keeps sealed credentials per provider, replaced and deleted like entities', async () => {
      expect(await store.putCredential({ provider: 'openai', sealed: 'v1.k.a.b.c', actor: 'root', updatedAt: 5 })).toBe(1);
      expect(await store.putCredential({ provider: 'openai', sealed: 'v1.k.d.e.f', actor: 'ops', updatedAt: 6 })).toBe(2);
      expect((await store.load()).credentials).toEqual([{ provider: 'openai', sealed: 'v1.k.d.e.f', actor: 'ops', updatedAt: 6 }]);
      expect(await store.deleteCredential('openai')).toBe(3);
      expect(await store.deleteCredential('openai')).toBeNull();
      expect((await store.load()).credentials).toEqual([]);
    });

    it('gives concurrent writers distinct revisions', async () => {
      const revisions = await Promise.all(Array.from({ length: 8 }, (_, i) => store.put(entity('team', `initech/t${i}`))));
      expect(new Set(revisions).size).toBe(8);
      expect(await store.revision()).toBe(8);
    });
  });
}
