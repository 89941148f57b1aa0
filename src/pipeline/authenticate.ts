/**
 * Stage: the bearer key (or `api-key` header, as Azure clients send) resolves to a principal, or
 * 401. Failures are throttled per client IP and key prefix (429 once over the limit).
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { KeyDirectory, Principal } from '../auth/directory.js';
import type { AuthThrottle } from '../edge/auth-throttle.js';
import { GatewayError } from '../errors.js';

export async function authenticate(headers: IncomingHttpHeaders, ip: string, keys: KeyDirectory, throttle: AuthThrottle): Promise<Principal> {
  const key = presentedKey(headers);
  const prefix = throttle.prefixOf(key);
  // Checked before the key is looked at: a blocked guesser must not learn that a guess was right.
  throttle.check(ip, prefix);
  if (!key) {
    throttle.fail(ip, undefined);
    throw new GatewayError('invalid_api_key', 'Missing API key. Send it as "Authorization: Bearer <key>".');
  }
  const principal = await keys.resolve(key);
  if (!principal) {
    throttle.fail(ip, prefix);
    // One message for unknown and revoked keys: a caller learns nothing about which keys exist.
    throw new GatewayError('invalid_api_key', 'Incorrect or revoked API key.');
  }
  return principal;
}

function presentedKey(headers: IncomingHttpHeaders): string | undefined {
  const auth = headers.authorization;
  if (auth) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    return m?.[1];
  }
  const apiKey = headers['api-key'] ?? headers['x-api-key'];
  return typeof apiKey === 'string' && apiKey.length > 0 ? apiKey : undefined;
}
