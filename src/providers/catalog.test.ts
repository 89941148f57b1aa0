import { describe, expect, it } from 'vitest';
import { CATALOG_VERSION, MODEL_CATALOG, catalogEntry } from './catalog.js';

const DATE = /^\d{4}-\d{2}-\d{2}$/;

function isRealDate(s: string): boolean {
  if (!DATE.test(s)) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}

describe('model catalog', () => {
  it('has a version that is a date', () => {
    expect(isRealDate(CATALOG_VERSION)).toBe(true);
  });

  it('is not empty and covers every family', () => {
    const families = new Set(MODEL_CATALOG.map((e) => e.family));
    expect([...families].sort()).toEqual(['anthropic', 'cohere', 'gemini', 'meta', 'mistral', 'openai']);
  });

  it.each(MODEL_CATALOG.map((e) => [e.id, e] as const))('%s names a source and a date not after the catalog version', (_id, e) => {
    expect(e.source.trim().length).toBeGreaterThan(0);
    expect(e.source).toMatch(/https?:\/\//);
    expect(isRealDate(e.asOf)).toBe(true);
    expect(e.asOf <= CATALOG_VERSION).toBe(true);
    expect(e.upstreamModel.trim()).toBe(e.upstreamModel);
    expect(e.upstreamModel.length).toBeGreaterThan(0);
  });

  it('has unique ids, and no name (id or upstream) resolves to two entries', () => {
    const ids = MODEL_CATALOG.map((e) => e.id.toLowerCase());
    expect(new Set(ids).size).toBe(ids.length);
    const owner = new Map<string, string>();
    for (const e of MODEL_CATALOG) {
      for (const name of new Set([e.id.toLowerCase(), e.upstreamModel.toLowerCase()])) {
        expect(owner.get(name) ?? e.id, `${name} claimed by ${owner.get(name)} and ${e.id}`).toBe(e.id);
        owner.set(name, e.id);
      }
    }
  });

  it('finds every entry by its public id and by its upstream name, case-insensitively', () => {
    for (const e of MODEL_CATALOG) {
      expect(catalogEntry(e.id)).toBe(e);
      expect(catalogEntry(e.upstreamModel)).toBe(e);
      expect(catalogEntry(e.id.toUpperCase())).toBe(e);
      expect(catalogEntry(`  ${e.upstreamModel.toUpperCase()} `)).toBe(e);
    }
  });

  it('finds entries by dated upstream snapshot names', () => {
    expect(catalogEntry('gpt-5.4-2026-03-05')?.id).toBe('gpt-5.4');
    expect(catalogEntry('o3-2025-04-16')?.id).toBe('o3');
    expect(catalogEntry('o4-mini-2025-04-16')?.id).toBe('o4-mini');
    expect(catalogEntry('claude-haiku-4-5-20251001')?.id).toBe('claude-haiku-4-5');
    expect(catalogEntry('claude-opus-4-6-20260205')?.id).toBe('claude-opus-4-6');
    expect(catalogEntry('CLAUDE-SONNET-4-6-20260217')?.id).toBe('claude-sonnet-4-6');
  });

  it('maps the product names to the names the providers expect', () => {
    expect(catalogEntry('claude-haiku-4-5')?.upstreamModel).toBe('claude-haiku-4-5-20251001');
    expect(catalogEntry('gemini-3.1-pro')?.upstreamModel).toBe('gemini-3.1-pro-preview');
    expect(catalogEntry('command-r-plus')?.upstreamModel).toBe('command-r-plus-08-2024');
    expect(catalogEntry('embed-v4')?.upstreamModel).toBe('embed-v4.0');
    expect(catalogEntry('mistral-small-4')?.upstreamModel).toBe('mistral-small-2603');
    expect(catalogEntry('devstral-2')?.upstreamModel).toBe('devstral-2512');
  });

  it('does not strip things that are not dates, and returns undefined for unknown names', () => {
    // '-08-2024' is part of Cohere's model name, not a YYYY-MM-DD suffix.
    expect(catalogEntry('command-r-plus-08-2024')?.id).toBe('command-r-plus');
    expect(catalogEntry('command-r-plus-04-2024')).toBeUndefined();
    expect(catalogEntry('gpt-5.4-pro')).toBeUndefined();
    expect(catalogEntry('gemini-3.1-ultra')).toBeUndefined();
    expect(catalogEntry('')).toBeUndefined();
    expect(catalogEntry('2026-01-15')).toBeUndefined();
  });

  it('has sane prices where present: positive input, output ≥ input for chat, cached ≤ input', () => {
    for (const e of MODEL_CATALOG) {
      if (!e.price) continue;
      const { input, output, cached_input } = e.price;
      expect(Number.isFinite(input) && input > 0, `${e.id} input`).toBe(true);
      expect(Number.isFinite(output) && output >= 0, `${e.id} output`).toBe(true);
      if (!e.capabilities.embeddings) {
        expect(output, `${e.id} output`).toBeGreaterThan(0);
        expect(output, `${e.id} output ≥ input`).toBeGreaterThanOrEqual(input);
      }
      if (cached_input !== undefined) {
        expect(cached_input, `${e.id} cached_input`).toBeGreaterThan(0);
        expect(cached_input, `${e.id} cached_input ≤ input`).toBeLessThanOrEqual(input);
      }
    }
  });

  it('has sane limits where present', () => {
    for (const e of MODEL_CATALOG) {
      if (e.contextWindow !== undefined) expect(Number.isInteger(e.contextWindow) && e.contextWindow > 0).toBe(true);
      if (e.maxOutputTokens !== undefined) {
        expect(Number.isInteger(e.maxOutputTokens) && e.maxOutputTokens > 0).toBe(true);
        if (e.contextWindow !== undefined) expect(e.maxOutputTokens).toBeLessThanOrEqual(e.contextWindow);
      }
    }
  });

  it('flags embedding models, and only those', () => {
    const embeddings = MODEL_CATALOG.filter((e) => e.capabilities.embeddings).map((e) => e.id).sort();
    expect(embeddings).toEqual(['embed-v4', 'text-embedding-3-large', 'text-embedding-3-small']);
    for (const id of embeddings) {
      const e = catalogEntry(id)!;
      expect(e.capabilities.tools).toBe(false);
      expect(e.maxOutputTokens).toBeUndefined();
      expect(e.price?.output).toBe(0);
    }
  });

  it('includes every model the product names that exists upstream', () => {
    const named = [
      'gpt-5.4', 'gpt-5.4-mini', 'o3', 'o4-mini', 'text-embedding-3-small', 'text-embedding-3-large',
      'claude-opus-4-6', 'claude-sonnet-4-6', 'claude-haiku-4-5',
      'gemini-3.1-pro',
      'llama-4-maverick', 'llama-4-scout', 'llama-3.3-70b',
      'mistral-small-4', 'devstral-2',
      'command-r-plus', 'embed-v4',
    ];
    for (const id of named) expect(catalogEntry(id)?.id, id).toBe(id);
  });

  it('is frozen', () => {
    expect(Object.isFrozen(MODEL_CATALOG)).toBe(true);
    const e = MODEL_CATALOG[0]!;
    expect(Object.isFrozen(e)).toBe(true);
    expect(Object.isFrozen(e.capabilities)).toBe(true);
    if (e.price) expect(Object.isFrozen(e.price)).toBe(true);
  });
});
