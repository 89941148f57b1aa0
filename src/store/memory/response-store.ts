import type { ResponseStore, StoredResponse } from '../types.js';

/** Stored responses in process memory (tests, and deployments that accept losing them on restart). */
export class MemoryResponseStore implements ResponseStore {
  private readonly byId = new Map<string, StoredResponse>();

  constructor(private readonly clock: () => number = Date.now) {}

  async put(tenantId: string, stored: StoredResponse): Promise<void> {
    const existing = this.byId.get(stored.id);
    if (existing && existing.tenantId !== tenantId) return; // an id never moves to another tenant
    // A deep copy, so callers cannot change what is stored (as with the SQLite store).
    this.byId.set(stored.id, structuredClone({ ...stored, tenantId }));
  }

  async get(tenantId: string, id: string): Promise<StoredResponse | undefined> {
    const stored = this.live(tenantId, id);
    return stored && structuredClone(stored);
  }

  async delete(tenantId: string, id: string): Promise<boolean> {
    return this.live(tenantId, id) !== undefined && this.byId.delete(id);
  }

  async deleteExpired(now: number): Promise<number> {
    let n = 0;
    for (const [id, stored] of this.byId) {
      if (stored.expiresAt <= now) {
        this.byId.delete(id);
        n++;
      }
    }
    return n;
  }

  private live(tenantId: string, id: string): StoredResponse | undefined {
    const stored = this.byId.get(id);
    return stored && stored.tenantId === tenantId && stored.expiresAt > this.clock() ? stored : undefined;
  }
}
