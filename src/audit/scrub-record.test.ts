import { describe, expect, it } from 'vitest';
import { auditRecord } from '../../test/support/audit-fixtures.js';
import { REDACTED, Scrubber } from '../security/scrub.js';
import { scrubAuditRecord } from './scrub-record.js';

const SECRET = 'configured-provider-secret-123';

describe('scrubAuditRecord', () => {
  it('scrubs what came from a provider and leaves ids readable', () => {
    const record = auditRecord({
      upstream_error: `Provider "p" failed with HTTP 500: echo ${SECRET}`,
      upstream_request_id: 'sk-proj-abcdefghijklmnop1234',
      finish_reason: SECRET,
      end_user: `0123456789abcdef0123456789abcdef ${SECRET}`,
      completion: `the key is ${SECRET}`,
      attempt_log: [{ model: 'm', deployment: 'p/m', status: 500, error: `boom Bearer abcdefgh12345678`, latency_ms: 1 }],
    });
    const out = scrubAuditRecord(record, new Scrubber([SECRET]));
    expect(JSON.stringify(out)).not.toContain(SECRET);
    expect(out.upstream_error).toBe(`Provider "p" failed with HTTP 500: echo ${REDACTED}`);
    expect(out.upstream_request_id).toBeNull();
    expect(out.end_user).toBe(`0123456789abcdef0123456789abcdef ${REDACTED}`);
    expect(out.attempt_log[0]!.error).not.toContain('abcdefgh12345678');
    expect(out.decision_id).toBe(record.decision_id);
    expect(out.request_id).toBe(record.request_id);
    expect(scrubAuditRecord(auditRecord({ request_id: 'omk_someone_elses_key_12345' }), new Scrubber([])).request_id).toBe(REDACTED);
  });
});
