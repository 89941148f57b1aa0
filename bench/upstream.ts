/**
 * The benchmark's fake upstream: a minimal OpenAI-compatible server with a fixed answer, so the
 * gateway and the bare proxy are measured against exactly the same thing. `model` steers it:
 * a model name ending in `-delay-N` waits N ms before answering, one ending in `-error-N` answers
 * HTTP N with an OpenAI-format error (the soak's upstream failures). Streams send 20 content
 * chunks, a finish chunk and (when asked) a usage chunk.
 */
import { createServer, type ServerResponse } from 'node:http';

const port = Number(process.argv[2] ?? 0);
const usage = { prompt_tokens: 25, completion_tokens: 20, total_tokens: 45 };
const completion = (model: string) =>
  JSON.stringify({
    id: 'chatcmpl-bench',
    object: 'chat.completion',
    created: 1_700_000_000,
    model,
    choices: [{ index: 0, message: { role: 'assistant', content: 'The quick brown fox jumps over the lazy dog.' }, finish_reason: 'stop', logprobs: null }],
    usage,
  });

function stream(res: ServerResponse, model: string, includeUsage: boolean): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const chunk = (delta: object, finish: string | null) =>
    `data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1700000000,"model":"${model}","choices":[{"index":0,"delta":${JSON.stringify(delta)},"finish_reason":${finish === null ? 'null' : `"${finish}"`}}]}\n\n`;
  let out = chunk({ role: 'assistant', content: '' }, null);
  for (let i = 0; i < 20; i++) out += chunk({ content: `tok${i} ` }, null);
  out += chunk({}, 'stop');
  if (includeUsage) out += `data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1700000000,"model":"${model}","choices":[],"usage":${JSON.stringify(usage)}}\n\n`;
  res.end(out + 'data: [DONE]\n\n');
}

/** The same answer in Anthropic's Messages format, to measure the cost of translation. */
const anthropicMessage = (model: string) =>
  JSON.stringify({
    id: 'msg_bench',
    type: 'message',
    role: 'assistant',
    model,
    content: [{ type: 'text', text: 'The quick brown fox jumps over the lazy dog.' }],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: { input_tokens: 25, output_tokens: 20 },
  });

function anthropicStream(res: ServerResponse, model: string): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const event = (name: string, data: object) => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
  let out = event('message_start', { type: 'message_start', message: { id: 'msg_bench', type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 25, output_tokens: 1 } } });
  out += event('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
  for (let i = 0; i < 20; i++) out += event('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: `tok${i} ` } });
  out += event('content_block_stop', { type: 'content_block_stop', index: 0 });
  out += event('message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 20 } });
  res.end(out + event('message_stop', { type: 'message_stop' }));
}

const server = createServer((req, res) => {
  const parts: Buffer[] = [];
  req.on('data', (c: Buffer) => parts.push(c));
  req.on('end', () => {
    const body = JSON.parse(Buffer.concat(parts).toString('utf8') || '{}');
    const model: string = body.model ?? 'bench';
    const delay = Number(/-delay-(\d+)$/.exec(model)?.[1] ?? 0);
    const failWith = Number(/-error-(\d{3})$/.exec(model)?.[1] ?? 0);
    const answer = () => {
      if (failWith) {
        const text = JSON.stringify({ error: { message: 'The fake upstream failed on purpose.', type: 'server_error', param: null, code: null } });
        res.writeHead(failWith, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
        return res.end(text);
      }
      if (req.url === '/v1/messages') {
        if (body.stream) return anthropicStream(res, model);
        const text = anthropicMessage(model);
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
        return res.end(text);
      }
      if (body.stream) return stream(res, model, body.stream_options?.include_usage === true);
      const text = completion(model);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    };
    if (delay > 0) setTimeout(answer, delay);
    else answer();
  });
});
server.keepAliveTimeout = 60_000;
server.listen(port, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`listening ${typeof address === 'object' && address ? address.port : port}\n`);
});
