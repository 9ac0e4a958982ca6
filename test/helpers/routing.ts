import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { chatCompletion, replyJson, startMockUpstream, type MockHandler, type MockUpstream } from './mock-upstream.js';
import type { RunningRelay } from './start-relay.js';

/**
 * Shared bits of the routing tests (issue 4): mock backends that say who they are, a client, a raw
 * chat request that returns status, headers and body, and a bounded wait on a condition.
 */

/** A chat.completion whose content is the backend's label and whose model is the one it received. */
export function replyAs(label: string): MockHandler {
  return (req, res) => {
    const model = req.body.length > 0 ? (JSON.parse(req.body.toString()) as { model?: string }).model : undefined;
    replyJson(200, chatCompletion(model ?? 'none', label))(req, res, undefined as never);
  };
}

/** A mock backend answering as `label` (until its handler is replaced). */
export function startLabelled(label: string): Promise<MockUpstream> {
  return startMockUpstream(replyAs(label));
}

export function clientOf(relay: RunningRelay): OpenAI {
  return new OpenAI({ apiKey: 'sk-client', baseURL: relay.baseURL, maxRetries: 0 });
}

export interface RawAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
}

/** POST /v1/chat/completions with fetch (no SDK): what the relay answered, verbatim. */
export async function postChat(relay: RunningRelay, model: string, options: { requestId?: string; body?: string } = {}): Promise<RawAnswer> {
  const headers: Record<string, string> = { 'content-type': 'application/json', authorization: 'Bearer sk-client' };
  if (options.requestId !== undefined) headers['x-request-id'] = options.requestId;
  const res = await fetch(`${relay.baseURL}/chat/completions`, {
    method: 'POST',
    headers,
    body: options.body ?? JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }),
  });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

/** The content of a chat.completion answer (the label of the backend that served it). */
export function contentOf(answer: RawAnswer): string {
  const body = JSON.parse(answer.text) as { choices?: { message?: { content?: string } }[] };
  return body.choices?.[0]?.message?.content ?? '';
}

/** Asserts the body is OpenAI's error shape with this code (and type, when given). */
export function assertOpenAiError(text: string, code: string, type?: string): void {
  const body = JSON.parse(text) as { error?: Record<string, unknown> };
  assert.ok(typeof body.error === 'object' && body.error !== null, `an error object: ${text}`);
  assert.equal(body.error.code, code, text);
  assert.equal(typeof body.error.message, 'string');
  assert.ok((body.error.message as string).length > 0);
  if (type !== undefined) assert.equal(body.error.type, type, text);
}

/** Polls `condition` every `everyMs` until it holds; fails after `ms` (for state changed by time, not by an event). */
export async function eventually(condition: () => boolean | Promise<boolean>, ms: number, what: string, everyMs = 20): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** Closes relays and mocks, ignoring the ones never started. */
export async function closeAll(...things: ({ close(): Promise<void> } | undefined)[]): Promise<void> {
  for (const t of things) await t?.close();
}
