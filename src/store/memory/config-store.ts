/** Runtime entities in this process only (tests, tools): the ConfigStore contract without a database. */
import type { ConfigStore, EntityKind, SealedCredential, StoredEntity } from '../types.js';

const clone = <T>(v: T): T => structuredClone(v);

export class MemoryConfigStore implements ConfigStore {
  private readonly entities = new Map<string, StoredEntity>();
  private readonly credentials = new Map<string, SealedCredential>();
  private rev = 0;

  async load(): Promise<{ revision: number; entities: StoredEntity[]; credentials: SealedCredential[] }> {
    const entities = [...this.entities.values()].sort((a, b) => (a.kind === b.kind ? (a.id < b.id ? -1 : 1) : a.kind < b.kind ? -1 : 1));
    const credentials = [...this.credentials.values()].sort((a, b) => (a.provider < b.provider ? -1 : 1));
    return { revision: this.rev, entities: entities.map(clone), credentials: credentials.map(clone) };
  }

  async revision(): Promise<number> {
    return this.rev;
  }

  async get(kind: EntityKind, id: string): Promise<StoredEntity | undefined> {
    const e = this.entities.get(`${kind}:${id}`);
    return e && clone(e);
  }

  async put(entity: StoredEntity): Promise<number> {
    const key = `${entity.kind}:${entity.id}`;
    const createdAt = this.entities.get(key)?.createdAt ?? entity.createdAt;
    this.entities.set(key, clone({ ...entity, createdAt }));
    return ++this.rev;
  }

  async delete(kind: EntityKind, id: string): Promise<number | null> {
    return this.entities.delete(`${kind}:${id}`) ? ++this.rev : null;
  }

  async putCredential(credential: SealedCredential): Promise<number> {
    this.credentials.set(credential.provider, clone(credential));
    return ++this.rev;
  }

  async deleteCredential(provider: string): Promise<number | null> {
    return this.credentials.delete(provider) ? ++this.rev : null;
  }
}
