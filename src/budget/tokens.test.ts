import { describe, it, expect } from 'vitest';
import { createRequire } from 'node:module';
import { DEFAULT_OUTPUT_TOKENS_BOUND, IMAGE_TOKENS, encodingFor, estimateInputTokens, estimateOutputTokensBound, preloadTokenizerFor } from './tokens.js';

const require = createRequire(import.meta.url);
const o200k = require('gpt-tokenizer/encoding/o200k_base') as {
  encodeChat(chat: { role: 'user' | 'system' | 'assistant'; content: string }[], model: 'gpt-4o'): number[];
};

describe('encodingFor', () => {
  it.each([
    ['gpt-4o', 'o200k_base'],
    ['gpt-4o-mini-2024-07-18', 'o200k_base'],
    ['gpt-4.1', 'o200k_base'],
    ['gpt-5.4-mini', 'o200k_base'],
    ['o1', 'o200k_base'],
    ['o3-mini', 'o200k_base'],
    ['o4-mini', 'o200k_base'],
    ['openai/gpt-4o', 'o200k_base'],
    ['ft:gpt-4o-mini:acme::abc', 'o200k_base'],
    ['gpt-4', 'cl100k_base'],
    ['gpt-4-turbo', 'cl100k_base'],
    ['gpt-3.5-turbo', 'cl100k_base'],
    ['text-embedding-3-small', 'cl100k_base'],
    ['claude-opus-4-6', undefined],
    ['gemini-3.1-pro', undefined],
    ['llama-4-maverick', undefined],
    ['olmo-2', undefined],
  ])('%s -> %s', (model, enc) => {
    expect(encodingFor(model)).toBe(enc);
  });
});

describe('estimateInputTokens', () => {
  it('matches the chat format count of gpt-tokenizer for OpenAI models', () => {
    const chat = [
      { role: 'system' as const, content: 'You are a helpful assistant that answers briefly.' },
      { role: 'user' as const, content: 'What is the capital of France? Answer in one word.' },
      { role: 'assistant' as const, content: 'Paris.' },
    ];
    expect(estimateInputTokens({ messages: chat }, 'gpt-4o')).toBe(o200k.encodeChat(chat, 'gpt-4o').length);
  });

  it('counts per-message overhead, names, text parts, images and tools', () => {
    const base = estimateInputTokens({ messages: [{ role: 'user', content: 'Hello' }] }, 'gpt-4o');
    expect(base).toBe(3 + 1 + 1 + 3); // message + "user" + "Hello" + reply priming
    const named = estimateInputTokens({ messages: [{ role: 'user', content: 'Hello', name: 'bob' }] }, 'gpt-4o');
    expect(named).toBe(base + 1 + 1);
    const parts = estimateInputTokens(
      { messages: [{ role: 'user', content: [{ type: 'text', text: 'Hello' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }] }] },
      'gpt-4o',
    );
    expect(parts).toBe(base + IMAGE_TOKENS);
    const tools = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }];
    expect(estimateInputTokens({ messages: [{ role: 'user', content: 'Hello' }], tools }, 'gpt-4o')).toBeGreaterThan(base + 10);
  });

  it('counts assistant tool calls and does not throw on special tokens in user text', () => {
    const n = estimateInputTokens(
      { messages: [{ role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }] }] },
      'gpt-4o',
    );
    expect(n).toBeGreaterThan(7);
    expect(estimateInputTokens({ messages: [{ role: 'user', content: 'x <|endoftext|> y' }] }, 'gpt-4o')).toBeGreaterThan(8);
  });

  it('uses cl100k for older models and embeddings input forms', () => {
    expect(estimateInputTokens({ input: 'hello world' }, 'text-embedding-3-small')).toBe(2);
    expect(estimateInputTokens({ input: ['hello world', 'hello'] }, 'text-embedding-3-small')).toBe(3);
    expect(estimateInputTokens({ input: [1, 2, 3] }, 'text-embedding-3-small')).toBe(3);
    expect(estimateInputTokens({ input: [[1, 2], [3]] }, 'text-embedding-3-small')).toBe(3);
  });

  it('approximates other families by characters', () => {
    const text = 'a'.repeat(700);
    // 3 (message) + 3 (priming) + ceil((4 + 700) / ratio)
    expect(estimateInputTokens({ messages: [{ role: 'user', content: text }] }, 'claude-sonnet-4-5')).toBe(6 + Math.ceil(704 / 3.5));
    expect(estimateInputTokens({ messages: [{ role: 'user', content: text }] }, 'gemini-3.1-pro')).toBe(6 + Math.ceil(704 / 4));
    expect(estimateInputTokens({ input: 'abcdefgh' }, 'embed-v4.0')).toBe(2);
  });

  it('tolerates junk', () => {
    expect(estimateInputTokens({}, 'gpt-4o')).toBe(0);
    expect(estimateInputTokens({ messages: [null, 42, { content: { weird: true } }] }, 'gpt-4o')).toBe(3 * 3 + 3);
  });

  it('tokenizes a 4 KB prompt well under 1 ms (prints the mean of 200 runs)', () => {
    preloadTokenizerFor('gpt-4o');
    preloadTokenizerFor('gpt-4');
    const sentence = 'Summarise the quarterly spend of team research for tenant acme, listing models, tokens and dollars. ';
    const prompt = sentence.repeat(Math.ceil(4096 / sentence.length)).slice(0, 4096);
    for (const model of ['gpt-4o', 'gpt-4', 'claude-sonnet-4-5']) {
      // distinct prompts per run so the tokenizer's merge cache cannot make it look faster than it is
      const bodies = Array.from({ length: 200 }, (_, i) => ({ messages: [{ role: 'system', content: `run ${i}` }, { role: 'user', content: `${i} ${prompt}` }] }));
      for (let i = 0; i < 20; i++) estimateInputTokens(bodies[i], model);
      const t0 = performance.now();
      let total = 0;
      for (const b of bodies) total += estimateInputTokens(b, model);
      const mean = (performance.now() - t0) / bodies.length;
      console.log(`estimateInputTokens 4 KB ${model}: mean ${(mean * 1000).toFixed(1)} µs over 200 runs (${Math.round(total / 200)} tokens)`);
      expect(total).toBeGreaterThan(0);
    }
  });
});

describe('estimateOutputTokensBound', () => {
  it('prefers max_tokens, then the model max, then the default', () => {
    expect(estimateOutputTokensBound(100, 128_000)).toBe(100);
    expect(estimateOutputTokensBound(0, 128_000)).toBe(0);
    expect(estimateOutputTokensBound(null, 128_000)).toBe(128_000);
    expect(estimateOutputTokensBound(null, undefined)).toBe(DEFAULT_OUTPUT_TOKENS_BOUND);
  });
});

describe('token count cache', () => {
  it('gives the same count for a repeated long message as the first time, and for distinct ones', () => {
    const long = 'The quarterly numbers are in. '.repeat(40);
    const body = { messages: [{ role: 'user', content: long }] };
    const first = estimateInputTokens(body, 'gpt-4o');
    expect(estimateInputTokens(body, 'gpt-4o')).toBe(first);
    expect(estimateInputTokens({ messages: [{ role: 'user', content: long + ' More.' }] }, 'gpt-4o')).toBeGreaterThan(first);
  });
});
