/**
 * A realistic coding-agent request replayed through the gateway: through `/v1/messages` the way
 * a CLI coding agent sends it (beta stream with `?beta=true` and `anthropic-beta`, system blocks
 * with `cache_control`, a dozen tools with large schemas, `metadata.user_id`, thinking enabled)
 * to an Anthropic model (SDK 1.x no longer adds `?beta=true` itself, so the test passes it as
 * the agent does), and through `/v1/responses` (`store: false`, encrypted reasoning,
 * function tools) to an OpenAI model. The answer must arrive intact and the upstream must get
 * the body byte for byte, with only `model` replaced.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI, { APIError as OpenAIError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeAnthropic } from '../fakes/anthropic-upstream.js';
import { FAKE_UPSTREAM_KEY, startFakeOpenAI } from '../fakes/openai-upstream.js';
import { startTestGateway, TENANT_KEY, type TestGateway } from '../support/gateway.js';

const ANT_KEY = 'sk-ant-test-key-789';
const BETAS = ['claude-code-20250219', 'interleaved-thinking-2025-05-14', 'fine-grained-tool-streaming-2025-05-14'];

let gw: TestGateway;
let anthropic: Awaited<ReturnType<typeof startFakeAnthropic>>;
let openai: Awaited<ReturnType<typeof startFakeOpenAI>>;
const sent: { url: string; body: string; headers: Headers }[] = [];
const recordingFetch = async (url: RequestInfo | URL, init?: RequestInit) => {
  if (typeof init?.body === 'string') sent.push({ url: String(url), body: init.body, headers: new Headers(init.headers) });
  return fetch(url, init);
};

beforeAll(async () => {
  [anthropic, openai] = await Promise.all([startFakeAnthropic(), startFakeOpenAI()]);
  gw = await startTestGateway(`
storage: { url: "sqlite://\${DATA_DIR}/omega.db" }
audit: { flush_interval: 20ms }
providers:
  openai: { type: openai, base_url: "${openai.baseUrl}", api_key: ${FAKE_UPSTREAM_KEY}, circuit_breaker: { enabled: false } }
  anthropic: { type: anthropic, base_url: "${anthropic.url}", api_key: ${ANT_KEY}, circuit_breaker: { enabled: false } }
models:
  claude-sonnet-test: { provider: anthropic, model: claude-upstream-sonnet, retries: 0, price: { input: 3, output: 15 } }
  gpt-codex-test: { provider: openai, model: gpt-upstream-codex, retries: 0, price: { input: 1, output: 8 } }
tenants:
  acme:
    teams: { t: { agents: { coder: { keys: [ { id: k, key: "${TENANT_KEY}" } ] } } } }
`);
});
afterAll(async () => {
  await gw?.stop();
  await Promise.all([anthropic?.close(), openai?.close()]);
});

/** A tool schema of agent size: nested objects, enums, arrays and long descriptions. */
function bigSchema(name: string, i: number): Record<string, unknown> {
  const long = (what: string) => `${what} for ${name}. `.repeat(12).trim();
  return {
    type: 'object',
    $schema: 'http://json-schema.org/draft-07/schema#',
    additionalProperties: false,
    required: ['path'],
    properties: {
      path: { type: 'string', description: long('The absolute path of the file or folder') },
      mode: { type: 'string', enum: ['read', 'write', 'append', 'patch'], description: long('How the operation treats the file') },
      range: {
        type: 'object',
        description: long('Line range'),
        properties: { start: { type: 'integer', minimum: 1 }, end: { type: 'integer', minimum: 1 } },
        additionalProperties: false,
      },
      edits: {
        type: 'array',
        description: long('Edits to apply in order'),
        items: {
          type: 'object',
          required: ['old_string', 'new_string'],
          properties: {
            old_string: { type: 'string', description: long('Exact text to replace') },
            new_string: { type: 'string', description: long('Replacement text') },
            replace_all: { type: 'boolean', default: false },
          },
        },
      },
      timeout_ms: { type: 'number', maximum: 600000 + i, description: long('Optional timeout in milliseconds') },
    },
  };
}

const TOOL_NAMES = ['Read', 'Write', 'Edit', 'MultiEdit', 'Glob', 'Grep', 'Bash', 'LS', 'WebFetch', 'TodoWrite', 'NotebookEdit', 'Task'];

describe('a coding agent through /v1/messages (Anthropic, native)', () => {
  it('streams a beta request with thinking; the upstream gets every byte, the beta header and ?beta=true', async () => {
    const client = new Anthropic({ apiKey: TENANT_KEY, baseURL: gw.url, maxRetries: 0, fetch: recordingFetch });
    const tools = TOOL_NAMES.map((name, i) => ({
      name,
      description: `${name}: a tool the agent uses to work on the repository. `.repeat(8).trim(),
      input_schema: bigSchema(name, i) as Anthropic.Beta.BetaTool.InputSchema,
      ...(i === TOOL_NAMES.length - 1 ? { cache_control: { type: 'ephemeral' as const } } : {}),
    }));
    const stream = client.beta.messages.stream({
      model: 'claude-sonnet-test',
      max_tokens: 32000,
      betas: BETAS,
      thinking: { type: 'enabled', budget_tokens: 16000 },
      metadata: { user_id: 'user_8f2a_account_4c1d_session_77e0' },
      system: [
        { type: 'text', text: 'You are a coding agent working in a terminal.', cache_control: { type: 'ephemeral' } },
        { type: 'text', text: 'Use the tools to read and change files. Keep answers short.\nEnvironment: linux, node 20, git repo.', cache_control: { type: 'ephemeral' } },
      ],
      tools,
      messages: [
        { role: 'user', content: [{ type: 'text', text: '<system-reminder>The project uses TypeScript.</system-reminder>' }, { type: 'text', text: 'Explain what src/main.ts does' }] },
        {
          role: 'assistant',
          content: [
            { type: 'thinking', thinking: 'I should read the file first.', signature: 'EqQBCkYIBRgCKkBprevioussig==' },
            { type: 'tool_use', id: 'toolu_01A', name: 'Read', input: { path: '/repo/src/main.ts' } },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'toolu_01A', content: [{ type: 'text', text: 'export function main() { startServer(); }' }] },
            { type: 'text', text: 'Now summarise it [think]', cache_control: { type: 'ephemeral' } },
          ],
        },
      ],
    }, { query: { beta: 'true' } });
    let thinking = '';
    let text = '';
    stream.on('thinking', (delta) => (thinking += delta));
    stream.on('text', (delta) => (text += delta));
    const final = await stream.finalMessage();

    // The answer arrives intact: thinking with its signature, then the text.
    expect(final.content.map((b) => b.type)).toEqual(['thinking', 'text']);
    const block = final.content[0] as Anthropic.Beta.BetaThinkingBlock;
    expect(block.thinking).toBe('The user wants an echo of their message.');
    expect(block.signature).toMatch(/^sig_fake\d{4}$/);
    expect(thinking).toBe(block.thinking);
    expect((final.content[1] as Anthropic.Beta.BetaTextBlock).text).toBe(text);
    expect(text).toBe('Echo: Now summarise it [think]');
    expect(final.stop_reason).toBe('end_turn');

    // What went upstream: the client's body byte for byte (model replaced), ?beta=true and the betas.
    const clientSent = sent.at(-1)!;
    expect(new URL(clientSent.url).search).toBe('?beta=true');
    expect(clientSent.body.length).toBeGreaterThan(20_000);
    const got = anthropic.requests.at(-1)!;
    expect(got.path).toBe('/v1/messages?beta=true');
    expect(got.raw).toBe(JSON.stringify({ ...JSON.parse(clientSent.body), model: 'claude-upstream-sonnet' }));
    expect(String(got.headers['anthropic-beta']).split(',').map((s) => s.trim())).toEqual(expect.arrayContaining(BETAS));
    expect(got.headers['anthropic-version']).toBe(clientSent.headers.get('anthropic-version'));
    expect(got.headers['x-api-key']).toBe(ANT_KEY);
    expect(JSON.stringify(got.headers)).not.toContain(TENANT_KEY);

    const record = (await gw.auditRecords()).at(-1)!;
    expect(record).toMatchObject({ surface: 'anthropic-messages', stream: true, tools_count: 12, http_status: 200, policy_outcome: 'ALLOW' });
    expect(record.output_tokens).toBe(final.usage.output_tokens);
  });
});

describe('a coding agent through /v1/responses (OpenAI, native)', () => {
  const tools: OpenAI.Responses.FunctionTool[] = TOOL_NAMES.map((name, i) => ({
    type: 'function',
    name,
    description: `${name}: a tool the agent uses to work on the repository.`,
    parameters: bigSchema(name, i),
    strict: false,
  }));
  const request = (input: OpenAI.Responses.ResponseInput, stream: boolean) => ({
    model: 'gpt-codex-test',
    instructions: 'You are a coding agent working in a terminal. Use the tools to read and change files.',
    store: false,
    include: ['reasoning.encrypted_content' as const],
    reasoning: { effort: 'medium' as const, summary: 'auto' as const },
    parallel_tool_calls: false,
    prompt_cache_key: 'session-77e0',
    tools,
    tool_choice: 'auto' as const,
    stream,
    input,
  });

  it('answers a tool call and then the text, streamed and not, with the bytes passed through', async () => {
    const client = new OpenAI({ apiKey: TENANT_KEY, baseURL: `${gw.url}/v1`, maxRetries: 0, fetch: recordingFetch });
    const history: OpenAI.Responses.ResponseInput = [
      { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Fix the failing test in src/main.test.ts [tool]' }] },
    ];
    const first = await client.responses.create(request(history, false) as OpenAI.Responses.ResponseCreateParamsNonStreaming);
    const call = first.output.find((o): o is OpenAI.Responses.ResponseFunctionToolCall => o.type === 'function_call')!;
    expect(call).toMatchObject({ type: 'function_call', name: 'Read' });
    const bytes = () => openai.requests.at(-1)!.raw.toString('utf8');
    expect(bytes()).toBe(JSON.stringify({ ...JSON.parse(sent.at(-1)!.body), model: 'gpt-upstream-codex' }));

    // store: false, so the agent carries the conversation itself, as coding agents do.
    const next: OpenAI.Responses.ResponseInput = [
      ...history,
      { type: 'reasoning', id: 'rs_prev', summary: [], encrypted_content: 'gAAAAABencrypted-blob==' },
      call,
      { type: 'function_call_output', call_id: call.call_id, output: 'FAIL src/main.test.ts: expected 2, got 3' },
      { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Go on' }] },
    ];
    const stream = await client.responses.create(request(next, true) as OpenAI.Responses.ResponseCreateParamsStreaming);
    let text = '';
    let done: OpenAI.Responses.Response | undefined;
    for await (const event of stream) {
      if (event.type === 'response.output_text.delta') text += event.delta;
      if (event.type === 'response.completed') done = event.response;
    }
    expect(text).toBe('Echo: Go on');
    expect(done).toMatchObject({ status: 'completed', store: false });
    expect(bytes()).toBe(JSON.stringify({ ...JSON.parse(sent.at(-1)!.body), model: 'gpt-upstream-codex' }));
    expect(bytes()).toContain('gAAAAABencrypted-blob==');

    // Nothing was kept.
    const err = await client.responses.retrieve(done!.id).then(() => undefined, (e: unknown) => e as OpenAIError);
    expect(err?.status).toBe(404);
    // The last surface record (the GET's 404 comes after it).
    const record = (await gw.auditRecords()).filter((r) => r.surface === 'openai-responses').at(-1)!;
    expect(record).toMatchObject({ surface: 'openai-responses', stream: true, tools_count: 12, http_status: 200 });
  });
});
