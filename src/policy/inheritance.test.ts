import { describe, expect, it } from 'vitest';
import { PolicySet, resolvePolicyName } from './inheritance.js';
import { PolicySchema } from './schema.js';

describe('resolvePolicyName', () => {
  it('agent overrides team overrides tenant', () => {
    expect(resolvePolicyName('t', 'tm', 'a')).toBe('a');
    expect(resolvePolicyName('t', 'tm', undefined)).toBe('tm');
    expect(resolvePolicyName('t', null, null)).toBe('t');
    expect(resolvePolicyName(undefined, undefined, undefined)).toBeNull();
  });
});

describe('PolicySet', () => {
  const configs = {
    strict: PolicySchema.parse({ rules: [{ id: 'no-o3', models: { deny: ['o3'] }, action: 'block' }] }),
    lax: PolicySchema.parse({ version: 'v1' }),
  };

  it('compiles every policy once and returns it for a principal', () => {
    const set = new PolicySet(configs);
    expect(set.names()).toEqual(['strict', 'lax']);
    expect(set.for('strict', undefined, 'lax')).toBe(set.get('lax'));
    expect(set.for('strict')).toBe(set.for('strict'));
    expect(set.for()).toBeNull();
    expect(() => set.for('nope')).toThrow('unknown policy "nope"');
  });

  it('fails at construction on a bad rule, naming policy and rule', () => {
    expect(() => new PolicySet({ p: PolicySchema.parse({ rules: [{ id: 'r1', when: 'nope ==', action: 'log' }] }) })).toThrow(/policy "p" rule "r1"/);
  });

  it('replace swaps in a new version; a reused explicit version gets the content hash appended', () => {
    const set = new PolicySet(configs);
    const before = set.get('strict')!;
    const next = set.replace('strict', { rules: [{ id: 'no-o3', models: { deny: ['o3', 'o1'] }, action: 'block' }] });
    expect(next.version).not.toBe(before.version);
    expect(set.get('strict')).toBe(next);
    expect(set.revision).toBe(1);

    const same = set.replace('lax', { version: 'v1' });
    expect(same.version).toBe('v1'); // same content, same version
    const changed = set.replace('lax', { version: 'v1', thresholds: { review: 0.3 } });
    expect(changed.version).toMatch(/^v1\+[0-9a-f]{12}$/);
    expect(set.replace('lax', { version: 'v2', thresholds: { review: 0.3 } }).version).toBe('v2');
  });

  it('never reissues an earlier version for different content, even when it is not the current one', () => {
    const set = new PolicySet(configs);
    const b = set.replace('lax', { version: 'v1', thresholds: { review: 0.3 } }).version;
    expect(b).toMatch(/^v1\+[0-9a-f]{12}$/);
    const c = set.replace('lax', { version: 'v1', thresholds: { review: 0.4 } }).version;
    expect(c).toMatch(/^v1\+[0-9a-f]{12}$/);
    expect(c).not.toBe(b);
    expect(set.replace('lax', { version: 'v1' }).version).toBe('v1'); // the original content again
    expect(set.replace('lax', { version: 'v1', thresholds: { review: 0.3 } }).version).toBe(b);
  });

  it('keeps the old policy when the replacement is invalid; remove makes lookups fail closed', () => {
    const set = new PolicySet(configs);
    const old = set.get('strict');
    expect(() => set.replace('strict', { rules: [{ id: 'x', action: 'block' }] })).toThrow(/no condition/);
    expect(() => set.replace('strict', { rules: [{ id: 'x', when: '1 + 1', action: 'block' }] })).toThrow(/boolean/);
    expect(set.get('strict')).toBe(old);
    expect(set.remove('strict')).toBe(true);
    expect(() => set.for('strict')).toThrow(/unknown policy/);
  });
});
