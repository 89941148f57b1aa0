import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { DETECT_TARGETS, PolicySchema } from './schema.js';

const issues = (v: unknown): string => {
  const r = PolicySchema.safeParse(v);
  return r.success ? '' : r.error.issues.map((i) => i.message).join('; ');
};

describe('PolicySchema', () => {
  it('fills documented defaults', () => {
    expect(PolicySchema.parse({})).toEqual({
      thresholds: { review: 0.5, block: 0.8 },
      review: { mode: 'hold', timeout: 120_000, on_timeout: 'block' },
      weights: { pii: 0.2, secrets: 0.25, prompt_injection: 0.7 },
      rules: [],
    });
    const rule = PolicySchema.parse({ rules: [{ id: 'r', detect: 'pii', action: 'log' }] }).rules[0];
    expect(rule).toEqual({ id: 'r', detect: 'pii', action: 'log', on: 'request', shadow: false });
  });

  it('accepts durations as milliseconds or strings', () => {
    expect(PolicySchema.parse({ review: { timeout: '30s' } }).review.timeout).toBe(30_000);
    expect(PolicySchema.parse({ review: { timeout: '2m' } }).review.timeout).toBe(120_000);
    expect(PolicySchema.parse({ review: { timeout: 1500 } }).review.timeout).toBe(1500);
    expect(issues({ review: { timeout: 'soon' } })).toMatch(/duration/);
  });

  it('knows every detector target', () => {
    expect(DETECT_TARGETS).toContain('pii.payment_card');
    expect(DETECT_TARGETS).toContain('secrets.aws_access_key');
    expect(DETECT_TARGETS).toContain('prompt_injection');
    expect(issues({ rules: [{ id: 'r', detect: 'pii.passport', action: 'log' }] })).not.toBe('');
  });

  it.each([
    [{ rules: [{ id: 'r', action: 'block' }] }, /no condition/],
    [{ rules: [{ id: 'r', detect: 'terms', action: 'block' }] }, /needs `terms` or `patterns`/],
    [{ rules: [{ id: 'r', detect: 'pii', terms: ['x'], action: 'block' }] }, /only go with detect: terms/],
    [{ rules: [{ id: 'r', max_cost_usd: 1, action: 'redact' }] }, /redact needs a content condition/],
    [{ rules: [{ id: 'r', models: {}, action: 'block' }] }, /give `allow` or `deny`/],
    [{ rules: [{ id: 'r', when: 'true', action: 'log' }, { id: 'r', when: 'true', action: 'log' }] }, /duplicate rule id "r"/],
    [{ thresholds: { review: 0.9, block: 0.5 } }, /must not exceed/],
    [{ rules: [{ id: 'r', when: 'true', action: 'log', weight: 2 }] }, /./],
    [{ rules: [{ id: 'r', when: 'true', action: 'log', extra: 1 }] }, /./],
  ])('rejects %j', (config, msg) => {
    expect(issues(config)).toMatch(msg);
  });

  it('describes every field (the docs generator reads them)', () => {
    const schema = z.toJSONSchema(PolicySchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
    const missing: string[] = [];
    const walk = (node: unknown, path: string): void => {
      if (node === null || typeof node !== 'object') return;
      const n = node as Record<string, unknown>;
      if (n.properties) {
        for (const [k, v] of Object.entries(n.properties as Record<string, Record<string, unknown>>)) {
          if (typeof v.description !== 'string') missing.push(`${path}.${k}`);
          walk(v, `${path}.${k}`);
        }
      }
      for (const key of ['items', 'anyOf', 'oneOf', 'allOf']) {
        const c = n[key];
        if (Array.isArray(c)) c.forEach((x) => walk(x, path));
        else if (c) walk(c, `${path}[]`);
      }
    };
    walk(schema, '');
    expect(missing).toEqual([]);
  });
});

describe('docs/policies.md', () => {
  it('its YAML examples are valid policies', async () => {
    const { readFileSync } = await import('node:fs');
    const { parse } = await import('yaml');
    const { compilePolicy } = await import('./compile.js');
    const md = readFileSync(new URL('../../docs/policies.md', import.meta.url), 'utf8');
    const blocks = [...md.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => parse(m[1]!) as { policies?: Record<string, unknown> });
    const policies = blocks.flatMap((b) => Object.entries(b.policies ?? {}));
    expect(policies.length).toBeGreaterThan(0);
    for (const [name, config] of policies) expect(compilePolicy(name, PolicySchema.parse(config)).version).toMatch(/^[0-9a-f]{12}$/);
  });
});
