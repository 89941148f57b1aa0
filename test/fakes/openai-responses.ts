/**
 * `POST /v1/responses` of the fake OpenAI (openai-upstream.ts): JSON and SSE in the real event
 * format, a function call when tools are given and the input says `[tool]`, usage, and
 * `previous_response_id` accepted only for ids this fake issued (else OpenAI's 400).
 */
import type { ServerResponse } from 'node:http';
import { PROPOSAL_TEXT, proposedCall, thirds } from './openai-upstream.js';

export interface ResponsesFakeState {
  /** Ids of the responses this fake answered, in order. */
  issued: string[];
}

/** The last user text of a Responses input (a string, or the last user message item). */
export function responsesInputText(input: unknown): string {
  if (typeof input === 'string') return input;
  if (!Array.isArray(input)) return '';
  const last = [...input].reverse().find((i: any) => i?.role === 'user' && (i.type === undefined || i.type === 'message'));
  if (!last) return '';
  if (typeof last.content === 'string') return last.content;
  return (last.content ?? []).filter((p: any) => p.type === 'input_text').map((p: any) => p.text).join(' ');
}

export async function answerResponses(res: ServerResponse, body: any, text: string, state: ResponsesFakeState, json: (res: ServerResponse, status: number, value: unknown, headers?: Record<string, string>) => void): Promise<void> {
  if (typeof body.previous_response_id === 'string' && !state.issued.includes(body.previous_response_id)) {
    return json(res, 400, { error: { message: `Previous response with id '${body.previous_response_id}' not found.`, type: 'invalid_request_error', param: 'previous_response_id', code: 'previous_response_not_found' } });
  }
  const n = state.issued.length + 1;
  const id = `resp_fake${String(n).padStart(4, '0')}`;
  state.issued.push(id);
  const created = 1_700_000_000;
  const proposed = proposedCall(text);
  const tool = proposed?.name ?? (text.includes('[tool]') ? (body.tools ?? []).find((t: any) => t?.type === 'function')?.name : undefined);
  const wordsWanted = /\[words:(\d+)\]/.exec(text);
  const reply = proposed ? PROPOSAL_TEXT : wordsWanted ? Array.from({ length: Number(wordsWanted[1]) }, (_, i) => `w${i}`).join(' ') : `Echo: ${text}`;
  const pieces = reply.split(/(?<= )/);
  const inputTokens = Math.ceil(JSON.stringify(body.input ?? '').length / 4) + (typeof body.instructions === 'string' ? Math.ceil(body.instructions.length / 4) : 0);
  const outputTokens = tool ? 9 : pieces.length;
  const usage = { input_tokens: inputTokens, input_tokens_details: { cached_tokens: 0 }, output_tokens: outputTokens, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: inputTokens + outputTokens };
  const message = { id: `msg_fake${n}`, type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: reply, annotations: [], logprobs: [] }] };
  const call = tool ? { id: `fc_fake${n}`, type: 'function_call', status: 'completed', call_id: `call_fake_${n}`, name: tool, arguments: proposed?.arguments ?? '{"location":"Paris"}' } : undefined;
  const shell = {
    id, object: 'response', created_at: created, status: 'in_progress', background: false, error: null, incomplete_details: null,
    instructions: body.instructions ?? null, max_output_tokens: body.max_output_tokens ?? null, model: `${body.model}-2026-01-01`, output: [] as unknown[],
    parallel_tool_calls: body.parallel_tool_calls ?? true, previous_response_id: body.previous_response_id ?? null, reasoning: { effort: null, summary: null },
    store: body.store ?? true, temperature: body.temperature ?? 1, text: body.text ?? { format: { type: 'text' } }, tool_choice: body.tool_choice ?? 'auto',
    tools: body.tools ?? [], top_p: body.top_p ?? 1, truncation: 'disabled', usage: null as unknown, metadata: body.metadata ?? {},
  };
  // A `[call:…]` answer says something first, then calls; `[tool]` only calls.
  const output = proposed ? [message, call] : [call ?? message];
  const final = { ...shell, status: 'completed', output, usage };
  const headers = { 'x-request-id': `req_upstream_${id}` };
  if (!body.stream) return json(res, 200, final, headers);

  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', ...headers });
  let seq = 0;
  const send = (type: string, fields: Record<string, unknown>) => res.write(`event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: seq++, ...fields })}\n\n`);
  send('response.created', { response: shell });
  send('response.in_progress', { response: shell });
  const sendCall = (at: number) => {
    send('response.output_item.added', { output_index: at, item: { ...call, status: 'in_progress', arguments: '' } });
    for (const delta of thirds(call!.arguments)) send('response.function_call_arguments.delta', { item_id: call!.id, output_index: at, delta });
    send('response.function_call_arguments.done', { item_id: call!.id, output_index: at, arguments: call!.arguments });
    send('response.output_item.done', { output_index: at, item: call });
  };
  if (call && !proposed) {
    sendCall(0);
  } else {
    const die = /\[die:(\d+)\]/.exec(text);
    const at = { item_id: message.id, output_index: 0, content_index: 0 };
    send('response.output_item.added', { output_index: 0, item: { ...message, status: 'in_progress', content: [] } });
    send('response.content_part.added', { ...at, part: { type: 'output_text', text: '', annotations: [], logprobs: [] } });
    for (let i = 0; i < pieces.length; i++) {
      if (die && i === Number(die[1])) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        res.socket?.destroy();
        return;
      }
      send('response.output_text.delta', { ...at, delta: pieces[i], logprobs: [] });
    }
    send('response.output_text.done', { ...at, text: reply, logprobs: [] });
    send('response.content_part.done', { ...at, part: message.content[0] });
    send('response.output_item.done', { output_index: 0, item: message });
    if (call) sendCall(1);
  }
  send('response.completed', { response: final });
  res.end();
}
