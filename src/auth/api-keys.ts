/**
 * Tenant API keys. A key is `omk_` + 43 characters of base64url randomness (256 bits). Only its
 * sha256 is ever stored; a 256-bit random secret needs no slow password hash.
 */
import { hash, randomBytes } from 'node:crypto';

export const KEY_PREFIX = 'omk_';

export function generateApiKey(): string {
  return KEY_PREFIX + randomBytes(32).toString('base64url');
}

/** The stored form of a key: `sha256:<hex>`. */
export function hashApiKey(key: string): string {
  // One-shot hash: no Hash object per request (this runs on every authenticated request).
  return 'sha256:' + hash('sha256', key, 'hex');
}

/** A display hint that identifies a key without revealing it: `omk_AbCd…wxyz`. */
export function keyHint(key: string): string {
  return key.length > 12 ? `${key.slice(0, 8)}…${key.slice(-4)}` : '…';
}
