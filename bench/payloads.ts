/**
 * The bytes that travel in every scenario, shared by the mock upstream and the clients so both
 * sides agree on what "intact" means.
 */

export const CLIENT_API_KEY = 'sk-client-placeholder';
export const BACKEND_API_KEY = 'sk-bench-key';
export const CLIENT_MODEL = 'gpt-4';
export const MAPPED_MODEL = 'gpt-4-turbo';

const SYSTEM_PROMPT = 'You are a concise assistant that answers benchmark questions briefly.';
const USER_PROMPT =
  'Summarise in one sentence why a reverse proxy should stream server-sent events without ' +
  'buffering them, and name one header it must not forward upstream.';

/** ~300 byte chat request; `stream` adds `"stream":true` for the SSE scenarios. */
export function createChatRequestBody(stream: boolean): string {
  return JSON.stringify({
    model: CLIENT_MODEL,
    messages: [
      { role: 'system', content: SYSTEM_PROMPT },
      { role: 'user', content: USER_PROMPT },
    ],
    ...(stream ? { stream: true } : {}),
  });
}

/** ~600 byte chat.completion reply of the mock. */
export const COMPLETION_BODY = Buffer.from(
  JSON.stringify({
    id: 'chatcmpl-bench-0001',
    object: 'chat.completion',
    created: 1_700_000_000,
    model: MAPPED_MODEL,
    system_fingerprint: 'fp_bench_0001',
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content:
            'A reverse proxy should stream server-sent events unbuffered so every token reaches ' +
            'the user the moment the model produces it, keeping time to first token low and ' +
            'memory flat; it must drop hop-by-hop headers such as Connection and Keep-Alive ' +
            'instead of forwarding them upstream.',
          refusal: null,
        },
        logprobs: null,
        finish_reason: 'stop',
      },
    ],
    usage: { prompt_tokens: 48, completion_tokens: 62, total_tokens: 110 },
  }),
);

/**
 * One streamed chunk. With `usageField` the chunk ends in `"usage":null`, as OpenAI's chunks do
 * when the request asked for `stream_options.include_usage` (a relay that asked for it on the
 * client's behalf must cut it out again).
 */
export function createSseChunk(index: number, usageField = false): string {
  const chunk = {
    id: 'chatcmpl-bench-stream',
    object: 'chat.completion.chunk',
    created: 1_700_000_000,
    model: MAPPED_MODEL,
    choices: [{ index: 0, delta: { content: `tok${index} ` }, finish_reason: null }],
    ...(usageField ? { usage: null } : {}),
  };
  return `data: ${JSON.stringify(chunk)}\n\n`;
}

/** What the mock looks for in a request body to add the usage chunk (the relay writes it so). */
export const INCLUDE_USAGE_MARKER = '"include_usage":true';

/** OpenAI's extra last chunk for `include_usage`: no choices, the stream's usage. */
export function createSseUsageChunk(chunks: number): string {
  const chunk = {
    id: 'chatcmpl-bench-stream',
    object: 'chat.completion.chunk',
    created: 1_700_000_000,
    model: MAPPED_MODEL,
    choices: [],
    usage: {
      prompt_tokens: 48,
      completion_tokens: chunks,
      total_tokens: 48 + chunks,
      prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0 },
    },
  };
  return `data: ${JSON.stringify(chunk)}\n\n`;
}

export const SSE_DONE = 'data: [DONE]\n\n';

/** The exact bytes a client must receive for one stream of `chunks` chunks (it never asks for usage). */
export function createExpectedSseBody(chunks: number): Buffer {
  const parts: string[] = [];
  for (let i = 0; i < chunks; i += 1) parts.push(createSseChunk(i));
  parts.push(SSE_DONE);
  return Buffer.from(parts.join(''));
}
