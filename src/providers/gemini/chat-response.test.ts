import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { UpstreamTarget } from '../adapter.js';
import { geminiAdapter } from './index.js';

const target: UpstreamTarget = {
  providerName: 'google',
  provider: { type: 'gemini', api_key: 'k', headers: {}, connections: 1 },
  baseUrl: 'https://generativelanguage.googleapis.com',
  upstreamModel: 'gemini-2.5-flash',
  publicModel: 'flash',
};
const NOW = Date.UTC(2026, 0, 2, 3, 4, 5);
const CREATED = NOW / 1000;

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(NOW);
});
afterEach(() => vi.useRealTimers());

const base = { id: 'chatcmpl-resp-1', object: 'chat.completion', created: CREATED, model: 'flash' };
const zeroDetails = { prompt_tokens_details: { cached_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 0 } };

describe('gemini chatResponse', () => {
  const cases: Array<{ name: string; json: unknown; expected: unknown }> = [
    {
      name: 'text parts joined; STOP → stop; usage',
      json: {
        candidates: [{ content: { parts: [{ text: 'Hello' }, { text: ', world' }], role: 'model' }, finishReason: 'STOP', index: 0 }],
        usageMetadata: { promptTokenCount: 5, candidatesTokenCount: 3, totalTokenCount: 8 },
        modelVersion: 'gemini-2.5-flash',
        responseId: 'resp-1',
      },
      expected: {
        ...base,
        choices: [{ index: 0, message: { role: 'assistant', content: 'Hello, world', refusal: null }, finish_reason: 'stop', logprobs: null }],
        usage: { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8, ...zeroDetails },
      },
    },
    {
      name: 'function calls → tool_calls with deterministic ids; signature kept in extra_content',
      json: {
        candidates: [
          {
            content: {
              role: 'model',
              parts: [
                { functionCall: { name: 'get_weather', args: { location: 'Paris' } }, thoughtSignature: 'c2ln' },
                { functionCall: { name: 'get_time' } },
              ],
            },
            finishReason: 'STOP',
            index: 0,
          },
        ],
        usageMetadata: { promptTokenCount: 20, candidatesTokenCount: 10, totalTokenCount: 30 },
        responseId: 'resp-1',
      },
      expected: {
        ...base,
        choices: [
          {
            index: 0,
            message: {
              role: 'assistant',
              content: null,
              refusal: null,
              tool_calls: [
                { id: 'call_0_0', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris"}' }, extra_content: { google: { thought_signature: 'c2ln' } } },
                { id: 'call_0_1', type: 'function', function: { name: 'get_time', arguments: '{}' } },
              ],
            },
            finish_reason: 'tool_calls',
            logprobs: null,
          },
        ],
        usage: { prompt_tokens: 20, completion_tokens: 10, total_tokens: 30, ...zeroDetails },
      },
    },
    {
      name: 'MAX_TOKENS → length',
      json: { candidates: [{ content: { parts: [{ text: 'Once upon' }], role: 'model' }, finishReason: 'MAX_TOKENS', index: 0 }], responseId: 'resp-1' },
      expected: { ...base, choices: [{ index: 0, message: { role: 'assistant', content: 'Once upon', refusal: null }, finish_reason: 'length', logprobs: null }] },
    },
    {
      name: 'SAFETY with no content → content_filter, empty content',
      json: {
        candidates: [{ finishReason: 'SAFETY', index: 0, safetyRatings: [{ category: 'HARM_CATEGORY_HARASSMENT', probability: 'HIGH', blocked: true }] }],
        usageMetadata: { promptTokenCount: 9, totalTokenCount: 9 },
        responseId: 'resp-1',
      },
      expected: {
        ...base,
        choices: [{ index: 0, message: { role: 'assistant', content: '', refusal: null }, finish_reason: 'content_filter', logprobs: null }],
        usage: { prompt_tokens: 9, completion_tokens: 0, total_tokens: 9, ...zeroDetails },
      },
    },
    {
      name: 'thought parts skipped; thoughts and cached tokens in usage',
      json: {
        candidates: [{ content: { parts: [{ text: 'Let me think…', thought: true }, { text: '42' }], role: 'model' }, finishReason: 'STOP', index: 0 }],
        usageMetadata: { promptTokenCount: 100, candidatesTokenCount: 2, thoughtsTokenCount: 50, cachedContentTokenCount: 64, totalTokenCount: 152 },
        responseId: 'resp-1',
      },
      expected: {
        ...base,
        choices: [{ index: 0, message: { role: 'assistant', content: '42', refusal: null }, finish_reason: 'stop', logprobs: null }],
        usage: { prompt_tokens: 100, completion_tokens: 52, total_tokens: 152, prompt_tokens_details: { cached_tokens: 64 }, completion_tokens_details: { reasoning_tokens: 50 } },
      },
    },
    {
      name: 'prompt blocked: no candidates, promptFeedback.blockReason',
      json: { promptFeedback: { blockReason: 'PROHIBITED_CONTENT' }, usageMetadata: { promptTokenCount: 7, totalTokenCount: 7 }, responseId: 'resp-1' },
      expected: {
        ...base,
        choices: [{ index: 0, message: { role: 'assistant', content: '', refusal: null }, finish_reason: 'content_filter', logprobs: null }],
        usage: { prompt_tokens: 7, completion_tokens: 0, total_tokens: 7, ...zeroDetails },
      },
    },
    {
      name: 'several candidates; RECITATION, unknown and missing finish reasons',
      json: {
        candidates: [
          { content: { parts: [{ text: 'a' }], role: 'model' }, finishReason: 'RECITATION', index: 0 },
          { content: { parts: [{ text: 'b' }], role: 'model' }, finishReason: 'MALFORMED_FUNCTION_CALL', index: 1 },
          { content: { parts: [{ text: 'c' }], role: 'model' } },
        ],
        responseId: 'resp-1',
      },
      expected: {
        ...base,
        choices: [
          { index: 0, message: { role: 'assistant', content: 'a', refusal: null }, finish_reason: 'content_filter', logprobs: null },
          { index: 1, message: { role: 'assistant', content: 'b', refusal: null }, finish_reason: 'stop', logprobs: null },
          { index: 2, message: { role: 'assistant', content: 'c', refusal: null }, finish_reason: 'stop', logprobs: null },
        ],
      },
    },
  ];
  it.each(cases)('$name', ({ json, expected }) => {
    expect(geminiAdapter.chatResponse(json, target)).toStrictEqual(expected);
  });

  it('without a responseId: a fresh random id; without a public model: modelVersion', () => {
    const json = { candidates: [{ content: { parts: [{ text: 'x' }] }, finishReason: 'STOP' }], modelVersion: 'gemini-2.5-flash-001' };
    const a = geminiAdapter.chatResponse(json, { ...target, publicModel: '' });
    const b = geminiAdapter.chatResponse(json, target);
    expect(a.id).toMatch(/^chatcmpl-[0-9a-f-]{36}$/);
    expect(a.id).not.toBe(b.id);
    expect(a.model).toBe('gemini-2.5-flash-001');
    expect(b.model).toBe('flash');
  });

  const unusable: Array<{ name: string; json: unknown; code: string }> = [
    { name: 'null', json: null, code: 'upstream_invalid_response' },
    { name: 'a string', json: 'oops', code: 'upstream_invalid_response' },
    { name: 'an array', json: [{ candidates: [] }], code: 'upstream_invalid_response' },
    { name: 'no candidates and no block reason', json: { usageMetadata: {} }, code: 'upstream_invalid_response' },
    { name: 'candidates not a list', json: { candidates: { text: 'x' } }, code: 'upstream_invalid_response' },
    { name: 'an error object in a 200', json: { error: { code: 500, message: 'boom', status: 'INTERNAL' } }, code: 'upstream_error' },
  ];
  it.each(unusable)('$name → $code', ({ json, code }) => {
    expect(() => geminiAdapter.chatResponse(json, target)).toThrow(expect.objectContaining({ code, status: 502 }));
  });
});
