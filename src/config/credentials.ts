/**
 * Provider credentials set through the admin API are sealed with AES-256-GCM under the master
 * key (`OMEGA_MASTER_KEY`, read by main.ts only) before they reach the store, and opened only
 * when a configuration snapshot is built. The provider name is bound in as associated data, so
 * a sealed value copied onto another provider's row does not open.
 *
 * Sealed form: `v1.<key id>.<iv>.<tag>.<ciphertext>` (base64url parts). The key id (8 hex of
 * sha256 of the key) names which master key sealed it, so a wrong key is reported as such.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

export class MasterKeyError extends Error {
  override name = 'MasterKeyError';
}

export class CredentialSealer {
  private readonly key: Buffer;
  /** Identifies the master key without revealing it. */
  readonly keyId: string;

  private constructor(key: Buffer) {
    this.key = key;
    this.keyId = createHash('sha256').update(key).digest('hex').slice(0, 8);
  }

  /**
   * A sealer from the master key's text: 32 bytes as 64 hex digits or base64 (e.g. `openssl
   * rand -base64 32`). Throws MasterKeyError on anything else, naming the expected forms only.
   */
  static fromMasterKey(text: string): CredentialSealer {
    const trimmed = text.trim();
    let key: Buffer | undefined;
    if (/^[0-9a-fA-F]{64}$/.test(trimmed)) key = Buffer.from(trimmed, 'hex');
    else if (/^[A-Za-z0-9+/_-]{42,44}={0,2}$/.test(trimmed)) key = Buffer.from(trimmed, 'base64');
    if (!key || key.length !== 32) throw new MasterKeyError('OMEGA_MASTER_KEY must be 32 random bytes, as 64 hex digits or base64 (e.g. `openssl rand -base64 32`).');
    return new CredentialSealer(key);
  }

  seal(provider: string, secret: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(provider, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
    return ['v1', this.keyId, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), ciphertext.toString('base64url')].join('.');
  }

  /** The secret; throws MasterKeyError when another key sealed it or the value was altered. */
  open(provider: string, sealed: string): string {
    const [version, keyId, iv, tag, ciphertext] = sealed.split('.');
    if (version !== 'v1' || !keyId || iv === undefined || tag === undefined || ciphertext === undefined) throw new MasterKeyError(`the stored credential of "${provider}" is not in a known sealed form`);
    if (keyId !== this.keyId) throw new MasterKeyError(`the stored credential of "${provider}" was sealed with another master key (${keyId}; this one is ${this.keyId})`);
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
      decipher.setAAD(Buffer.from(provider, 'utf8'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      throw new MasterKeyError(`the stored credential of "${provider}" does not open: it was altered or belongs to another provider`);
    }
  }
}
