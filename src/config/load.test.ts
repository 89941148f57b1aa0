import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configJsonSchema } from './json-schema.js';
import { ConfigError, loadConfigFile, parseConfigText } from './load.js';

const minimal = `
providers:
  p: { type: openai, api_key: "\${P_KEY}" }
models:
  m: { provider: p, price: { input: 1, output: 2 } }
tenants:
  t:
    models: [m]
    teams: { a: { agents: { b: { keys: [ { id: k1, key: "omk_0123456789abcdefghij" } ] } } } }
`;

function problems(text: string, env: Record<string, string> = {}): string[] {
  try {
    parseConfigText(text, 'deploy.yaml', env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected the configuration to be refused');
}

describe('configuration loading', () => {
  it('applies defaults and converts durations and sizes', () => {
    const c = parseConfigText(minimal, 'x', { P_KEY: 'sk-1' });
    expect(c.server).toMatchObject({ port: 8080, body_limit: 4 * 1024 * 1024, upstream_timeout: 120_000 });
    expect(c.providers.p!.api_key).toBe('sk-1');
    expect(c.version).toMatch(/^[0-9a-f]{12}$/);
    expect(Object.isFrozen(c.tenants.t)).toBe(true);
    const d = parseConfigText('server: { body_limit: 512kb, upstream_timeout: 1.5s, shutdown_grace: 2m }', 'x', {});
    expect(d.server).toMatchObject({ body_limit: 512 * 1024, upstream_timeout: 1500, shutdown_grace: 120_000 });
  });

  it('interpolates ${VAR} and ${VAR:-default}, and remembers providers whose credential is missing', () => {
    const text = minimal.replace('openai, api_key', 'openai, base_url: "${BASE:-http://localhost:1/v1}", api_key');
    const c = parseConfigText(text, 'x', {});
    expect(c.providers.p!.base_url).toBe('http://localhost:1/v1');
    expect(c.providers.p!.api_key).toBeUndefined();
    expect(c.missingCredentials).toEqual({ p: 'P_KEY' });
  });

  it('names the file, line, path and problem for every error at once', () => {
    const text = `
server:
  port: 99999
models:
  m: { provider: nowhere, fallbacks: [m, ghost] }
tenants:
  t:
    models: [m, missing]
    policy: nope
`;
    const found = problems(text);
    expect(found).toContain('line 3: server.port: Too big: expected number to be <=65535');
    const cross = problems(text.replace('99999', '8080'));
    expect(cross).toEqual([
      'line 5: models.m.provider: unknown provider "nowhere"',
      'line 5: models.m.fallbacks[0]: a model cannot fall back to itself',
      'line 5: models.m.fallbacks[1]: unknown model "ghost"',
      'line 8: tenants.t.models[1]: unknown model "missing"',
      'line 9: tenants.t.policy: unknown policy "nope"',
    ]);
  });

  it('reports YAML syntax errors with their line', () => {
    expect(problems('server:\n  port: [1, 2\n')[0]).toMatch(/^line \d+: /);
  });

  it('refuses unknown keys, duplicate key ids and duplicate agents', () => {
    expect(problems('servr: {}')[0]).toMatch(/Unrecognized key: "servr"/);
    const dup = minimal.replace('b: { keys: [ { id: k1, key: "omk_0123456789abcdefghij" } ] }', 'b: { keys: [ { id: k1, key: "omk_0123456789abcdefghij" }, { id: k1, key: "omk_0123456789abcdefghij" } ] }');
    const found = problems(dup, { P_KEY: 'x' });
    expect(found.some((p) => p.includes('key id "k1" is also used'))).toBe(true);
    expect(found.some((p) => p.includes('the same key is declared twice'))).toBe(true);
  });

  it('says which environment variable a required value was missing', () => {
    const found = problems('models:\n  m: { provider: "${PROV}" }\n');
    expect(found[0]).toContain('(environment variable PROV is not set)');
  });

  it('names an unreadable file', () => {
    expect(() => loadConfigFile('/nonexistent/omega.yaml')).toThrow(/\/nonexistent\/omega.yaml: invalid configuration\n  - cannot read the file: ENOENT/);
  });

  it('accepts the shipped example', () => {
    expect(() => loadConfigFile(new URL('../../omega.example.yaml', import.meta.url).pathname, {})).not.toThrow();
  });

  it('keeps docs/omega.schema.json in step with the schema (run `npm run schema`)', () => {
    const onDisk = JSON.parse(readFileSync(new URL('../../docs/omega.schema.json', import.meta.url), 'utf8'));
    expect(onDisk).toEqual(JSON.parse(JSON.stringify(configJsonSchema())));
  });

  it('documents every configuration key in docs/configuration.md', () => {
    const doc = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
    const missing: string[] = [];
    const walk = (schema: any, path: string) => {
      const props = schema?.properties ?? {};
      for (const [key, sub] of Object.entries<any>(props)) {
        const here = path ? `${path}.${key}` : key;
        if (!doc.includes(`\`${here}\``)) missing.push(here);
        walk(sub, here);
        const record = sub?.additionalProperties;
        if (record && typeof record === 'object') walk(record, `${here}.<name>`);
        if (sub?.items) walk(sub.items, `${here}[]`);
      }
    };
    walk(configJsonSchema(), '');
    expect(missing).toEqual([]);
  });
});
