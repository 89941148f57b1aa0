/**
 * The audit record's free-text fields, scrubbed before the record is stored, exported, served by
 * the admin API, counted in metrics or turned into a span: everything that came from a provider
 * (errors, ids, finish reasons) and the short strings a client chose that reach spans (model,
 * user agent) get the full scrub; the end-user id and the stored completion only lose configured
 * secrets, so hashed user ids and a model's prose are not mistaken for tokens.
 */
import { REDACTED, type Scrubber } from '../security/scrub.js';
import type { AuditRecord } from './record.js';

export function scrubAuditRecord(record: AuditRecord, scrubber: Scrubber): AuditRecord {
  // Non-strings (absent fields of records built by older code) pass as they are.
  const full = <T>(v: T, max: number): T => (typeof v === 'string' ? (scrubber.scrub(v, max) as T) : v);
  const literal = <T>(v: T): T => (typeof v === 'string' ? (scrubber.scrubLiterals(v) as T) : v);
  // Client-chosen header values (x-request-id, X-Forwarded-For behind a trusted proxy) are kept
  // when clean; a credential in them is not written down.
  if (typeof record.request_id === 'string' && scrubber.requestId(record.request_id) === null) record.request_id = REDACTED;
  record.client_ip = full(record.client_ip, 64);
  record.upstream_error = full(record.upstream_error, 500);
  if (typeof record.upstream_request_id === 'string') record.upstream_request_id = scrubber.requestId(record.upstream_request_id);
  record.finish_reason = full(record.finish_reason, 64);
  record.user_agent = full(record.user_agent, 256);
  record.sdk = full(record.sdk, 128);
  record.model_requested = full(record.model_requested, 256);
  record.end_user = literal(record.end_user);
  record.completion = literal(record.completion);
  if (Array.isArray(record.attempt_log) && record.attempt_log.length > 0) {
    record.attempt_log = record.attempt_log.map((a) => (typeof a.error === 'string' ? { ...a, error: scrubber.scrub(a.error, 500) } : a));
  }
  return record;
}
