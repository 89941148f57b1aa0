import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RequestContext } from '../pipeline/context.js';
import { buildAuditRecord } from './record.js';

describe('audit record', () => {
  it('documents every signal in docs/audit-signals.md', () => {
    const doc = readFileSync(new URL('../../docs/audit-signals.md', import.meta.url), 'utf8');
    const record = buildAuditRecord(new RequestContext('req_1', '/v1/models', 'GET', '127.0.0.1', null, null), {
      instance: 'h:1',
      version: '0.0.0',
      configVersion: 'abc',
    });
    const undocumented = Object.keys(record).filter((k) => !doc.includes(`| \`${k}\` |`));
    expect(undocumented).toEqual([]);
    expect(Object.keys(record).length).toBeGreaterThanOrEqual(60);
  });
});
