/** One behaviour contract for every ResponseStore; each implementation's test runs it. */
import { beforeEach, expect, it } from 'vitest';
import type { ResponseStore, StoredResponse } from './types.js';

export interface StoreUnderTest {
  store: ResponseStore;
  /** Sets the store's clock (ms since the epoch). */
  setNow(ms: number): void;
}

const T0 = 1_800_000_000_000;

export function stored(id: string, tenantId: string, overrides: Partial<StoredResponse> = {}): StoredResponse {
  return {
    id,
    tenantId,
    createdAt: T0,
    expiresAt: T0 + 1000,
    model: 'gpt-test',
    provider: 'openai-main',
    native: false,
    inputItems: [{ type: 'message', role: 'user', content: 'Hi ✓' }],
    outputItems: [{ type: 'message', id: 'msg_1', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'Hello', annotations: [] }] }],
    response: { id, object: 'response', output: [], usage: { input_tokens: 3 } },
    ...overrides,
  };
}

export function responseStoreConformance(open: () => Promise<StoreUnderTest>): void {
  let t: StoreUnderTest;
  beforeEach(async () => {
    t = await open();
    t.setNow(T0);
  });

  it('returns what was put, field for field', async () => {
    const s = stored('resp_a', 'acme', { native: true });
    await t.store.put('acme', s);
    expect(await t.store.get('acme', 'resp_a')).toEqual(s);
  });

  it('hides another tenant\'s response from get and delete', async () => {
    await t.store.put('acme', stored('resp_a', 'acme'));
    expect(await t.store.get('globex', 'resp_a')).toBeUndefined();
    expect(await t.store.delete('globex', 'resp_a')).toBe(false);
    expect(await t.store.get('acme', 'resp_a')).toBeDefined();
  });

  it('never lets another tenant overwrite an id', async () => {
    await t.store.put('acme', stored('resp_a', 'acme'));
    await t.store.put('globex', stored('resp_a', 'globex', { model: 'evil' }));
    expect((await t.store.get('acme', 'resp_a'))?.model).toBe('gpt-test');
    expect(await t.store.get('globex', 'resp_a')).toBeUndefined();
  });

  it('replaces a response of the same tenant and id', async () => {
    await t.store.put('acme', stored('resp_a', 'acme'));
    await t.store.put('acme', stored('resp_a', 'acme', { model: 'gpt-2' }));
    expect((await t.store.get('acme', 'resp_a'))?.model).toBe('gpt-2');
  });

  it('deletes once', async () => {
    await t.store.put('acme', stored('resp_a', 'acme'));
    expect(await t.store.delete('acme', 'resp_a')).toBe(true);
    expect(await t.store.get('acme', 'resp_a')).toBeUndefined();
    expect(await t.store.delete('acme', 'resp_a')).toBe(false);
  });

  it('reads an expired response as absent, and deleteExpired removes exactly the expired ones', async () => {
    await t.store.put('acme', stored('resp_old', 'acme', { expiresAt: T0 + 10 }));
    await t.store.put('globex', stored('resp_edge', 'globex', { expiresAt: T0 + 20 }));
    await t.store.put('acme', stored('resp_new', 'acme', { expiresAt: T0 + 30 }));
    t.setNow(T0 + 20);
    expect(await t.store.get('acme', 'resp_old')).toBeUndefined();
    expect(await t.store.get('acme', 'resp_new')).toBeDefined();
    expect(await t.store.deleteExpired(T0 + 20)).toBe(2);
    expect(await t.store.deleteExpired(T0 + 20)).toBe(0);
    t.setNow(T0);
    expect(await t.store.get('acme', 'resp_old')).toBeUndefined();
    expect(await t.store.get('globex', 'resp_edge')).toBeUndefined();
    expect(await t.store.get('acme', 'resp_new')).toBeDefined();
  });

  it('gives out copies: changing a result does not change the store', async () => {
    await t.store.put('acme', stored('resp_a', 'acme'));
    const first = await t.store.get('acme', 'resp_a');
    (first!.inputItems as unknown[]).push('tampered');
    expect((await t.store.get('acme', 'resp_a'))!.inputItems).toHaveLength(1);
  });
}
