import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CredentialSealer, MasterKeyError } from './credentials.js';

const KEY_B64 = randomBytes(32).toString('base64');

describe('CredentialSealer', () => {
  it('seals and opens a credential; the sealed form holds no trace of it', () => {
    const sealer = CredentialSealer.fromMasterKey(KEY_B64);
    const sealed = sealer.seal('openai', 'sk-live-secret-0123456789');
    expect(sealed).toMatch(/^v1\.[0-9a-f]{8}\./);
    expect(sealed).not.toContain('sk-live');
    expect(sealed).not.toContain(Buffer.from('sk-live-secret-0123456789').toString('base64'));
    expect(sealer.open('openai', sealed)).toBe('sk-live-secret-0123456789');
    // A fresh IV each time: the same secret never seals to the same text.
    expect(sealer.seal('openai', 'sk-live-secret-0123456789')).not.toBe(sealed);
  });

  it('accepts the key as hex too, and refuses keys that are not 32 bytes', () => {
    const hex = randomBytes(32).toString('hex');
    expect(CredentialSealer.fromMasterKey(hex).keyId).toHaveLength(8);
    for (const bad of ['', 'short', randomBytes(16).toString('base64'), randomBytes(31).toString('hex')]) {
      expect(() => CredentialSealer.fromMasterKey(bad)).toThrow(MasterKeyError);
    }
  });

  it('refuses to open with another key, for another provider, or after tampering', () => {
    const sealer = CredentialSealer.fromMasterKey(KEY_B64);
    const sealed = sealer.seal('openai', 'sk-live-secret-0123456789');
    expect(() => CredentialSealer.fromMasterKey(randomBytes(32).toString('base64')).open('openai', sealed)).toThrow(/another master key/);
    expect(() => sealer.open('anthropic', sealed)).toThrow(/altered or belongs to another provider/);
    const parts = sealed.split('.');
    parts[4] = Buffer.from('x' + Buffer.from(parts[4]!, 'base64url').toString('latin1')).toString('base64url');
    expect(() => sealer.open('openai', parts.join('.'))).toThrow(MasterKeyError);
    expect(() => sealer.open('openai', 'plaintext')).toThrow(/not in a known sealed form/);
  });
});
