import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PolicyStore } from '../../src/store/types.js';
import type { Backend, OpenBackend } from './backends.js';

/** What every PolicyStore must do. */
export function policyStoreConformance(open: OpenBackend): void {
  describe('PolicyStore', () => {
    let backend: Backend;
    let policies: PolicyStore;
    beforeEach(async () => {
      backend = await open();
      policies = backend.stores.policies;
    });
    afterEach(() => backend.close());

    const version = (name: string, v: string, createdAt: number) => ({ name, version: v, config: { rules: [{ id: v, nested: { list: [1, 'two', null] } }] }, actor: 'admin:ops', createdAt });

    it('is empty at first', async () => {
      expect(await policies.latest()).toEqual([]);
      expect(await policies.list('default')).toEqual([]);
    });

    it('keeps every version, newest first, with the policy as submitted', async () => {
      await policies.put(version('default', 'v1', 1000));
      await policies.put(version('default', 'v2', 2000));
      await policies.put(version('strict', 's1', 1500));
      expect(await policies.list('default')).toEqual([version('default', 'v2', 2000), version('default', 'v1', 1000)]);
    });

    it('returns the newest version of every name (the last put wins, even with an older timestamp)', async () => {
      await policies.put(version('default', 'v1', 1000));
      await policies.put(version('strict', 's1', 1500));
      await policies.put(version('default', 'v2', 500));
      const latest = await policies.latest();
      expect(latest.map((p) => [p.name, p.version]).sort()).toEqual([
        ['default', 'v2'],
        ['strict', 's1'],
      ]);
    });
  });
}
