import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../config/load.js';
import { buildAdminEvent, maskSecrets } from './events.js';
import { scrubberFor } from '../security/scrub.js';

const config = parseConfigText(
  `
providers:
  openai: { type: openai, api_key: "sk-configured-provider-secret-0123456789" }
`,
  'x.yaml',
  {},
);
const deps = { config, identity: { instance: 'h', version: '1', configVersion: 'c' } };
const principal = { id: 'rita', kind: 'token' as const, role: 'reviewer' as const, tenant: 'acme' };

describe('admin events', () => {
  it('documents every field in docs/audit-signals.md (Admin events)', () => {
    const doc = readFileSync(new URL('../../docs/audit-signals.md', import.meta.url), 'utf8');
    const section = doc.slice(doc.indexOf('## Admin events'));
    const event = buildAdminEvent(deps, principal, { action: 'review.approve', target: { type: 'review', id: 'rev_1' } });
    expect(Object.keys(event).filter((k) => !section.includes(`\`${k}\``))).toEqual([]);
  });

  it('masks credential fields, header maps and configured secrets in before/after', () => {
    const masked = maskSecrets(
      {
        name: 'openai',
        api_key: 'anything',
        credential: { value: 'x' },
        headers: { 'x-custom': 'v' },
        note: 'uses sk-configured-provider-secret-0123456789 today',
        nested: [{ client_secret: 's', hint: 'omk_Ab…yz' }],
        keep: { key_id: 'key_1', expires_at: null, enabled: false },
      },
      scrubberFor(config),
    );
    expect(masked).toEqual({
      name: 'openai',
      api_key: '[redacted]',
      credential: '[redacted]',
      headers: { 'x-custom': '[redacted]' },
      note: 'uses [redacted] today',
      nested: [{ client_secret: '[redacted]', hint: 'omk_Ab…yz' }],
      keep: { key_id: 'key_1', expires_at: null, enabled: false },
    });
  });

  it('files the event under the target tenant, with the actor', () => {
    const event = buildAdminEvent(deps, principal, { action: 'review.reject', target: { type: 'review', id: 'rev_2' }, tenant: 'acme', reason: 'no' });
    expect(event).toMatchObject({ kind: 'admin', tenant_id: 'acme', endpoint: 'admin:review.reject', actor: { id: 'rita', role: 'reviewer', tenant: 'acme' }, reason: 'no', before: null, after: null });
    expect(event.decision_id).toMatch(/^adm_[0-9a-f]{32}$/);
  });
});
