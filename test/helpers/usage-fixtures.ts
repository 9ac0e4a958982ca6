import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import OpenAI from 'openai';
import type { UsageRecord } from '../../src/usage/record.js';
import type { MockHandler } from './mock-upstream.js';

/**
 * Shared bits of the keys, limits and usage integration tests (issue 5): an SDK client per key, the
 * API error a call failed with, a throwaway SQLite usage database read back row by row, and a mock
 * chat stream that behaves like OpenAI's about `stream_options.include_usage`.
 */

/** An openai SDK client for `apiKey`, without retries (a 429 must reach the test, not be retried). */
export function clientFor(relay: { readonly baseURL: string }, apiKey: string): OpenAI {
  return new OpenAI({ apiKey, baseURL: relay.baseURL, maxRetries: 0 });
}

/** The APIError a call failed with; fails the test when the call succeeded or failed otherwise. */
export async function apiErrorOf(call: Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> {
  const outcome = await call.then(
    () => undefined,
    (err: unknown) => err,
  );
  assert.ok(outcome !== undefined, 'expected the call to fail');
  assert.ok(outcome instanceof OpenAI.APIError, `expected an APIError, got ${String(outcome)}`);
  return outcome;
}

export interface TempDatabase {
  readonly dir: string;
  /** The SQLite file for `usage.database`. */
  readonly path: string;
  remove(): void;
}

export function tempUsageDatabase(): TempDatabase {
  const dir = mkdtempSync(join(tmpdir(), 'relay-usage-'));
  return { dir, path: join(dir, 'usage.db'), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

interface SqliteUsageRow extends Omit<UsageRecord, 'stream' | 'aborted'> {
  readonly stream: number;
  readonly aborted: number;
}

/** Every record of a SQLite usage database, in the order written (read after the relay closed the store). */
export function readUsageRecords(path: string): UsageRecord[] {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare('SELECT * FROM usage ORDER BY rowid').all() as SqliteUsageRow[];
    return rows.map((r) => ({ ...r, stream: r.stream === 1, aborted: r.aborted === 1 }));
  } finally {
    db.close();
  }
}

/** The one record of `requestId`. */
export function recordOf(records: readonly UsageRecord[], requestId: string): UsageRecord {
  const found = records.filter((r) => r.request_id === requestId);
  assert.equal(found.length, 1, `one usage record for ${requestId}, got ${JSON.stringify(records.map((r) => r.request_id))}`);
  return found[0] as UsageRecord;
}

/** Float costs compared to the nano-dollar. */
export function assertCost(actual: number | null, expected: number, what = 'cost'): void {
  assert.ok(actual !== null, `${what}: expected ${expected}, got null`);
  assert.ok(Math.abs(actual - expected) < 1e-9, `${what}: expected ${expected}, got ${actual}`);
}

/** The usage OpenAI sends in the final chunk of an include_usage stream. */
export const STREAM_USAGE = Object.freeze({
  prompt_tokens: 12,
  completion_tokens: 7,
  total_tokens: 19,
  prompt_tokens_details: { cached_tokens: 4, audio_tokens: 0 },
  completion_tokens_details: { reasoning_tokens: 2, audio_tokens: 0 },
});

export interface OpenAiLikeStream {
  readonly handler: MockHandler;
  /** The exact bytes the mock wrote, one entry per request, in arrival order. */
  readonly written: Buffer[];
}

/**
 * A chat completion stream as OpenAI writes it. When the request asks for
 * `stream_options.include_usage`, every chunk carries `"usage":null` and a last chunk with
 * `"choices":[]` and the usage comes before `[DONE]`; otherwise neither appears. One chunk has its
 * `"usage":null` in the middle of the object (a position the relay must also cut cleanly), and one
 * event is written in two pieces.
 */
export function openAiLikeChatStream(pieces: readonly string[] = ['Hel', 'lo', ' there', '!'], usage: object = STREAM_USAGE): OpenAiLikeStream {
  const written: Buffer[] = [];
  const handler: MockHandler = async (req, res) => {
    const body = JSON.parse(req.body.toString()) as { model?: string; stream_options?: { include_usage?: unknown } | null };
    const withUsage = body.stream_options?.include_usage === true;
    const model = body.model ?? 'unknown';
    const out: Buffer[] = [];
    const send = async (text: string, split = false): Promise<void> => {
      const bytes = Buffer.from(text);
      out.push(bytes);
      if (!split) {
        res.write(bytes);
        return;
      }
      const half = Math.floor(bytes.length / 2);
      res.write(bytes.subarray(0, half));
      await new Promise((resolve) => setImmediate(resolve));
      res.write(bytes.subarray(half));
    };
    const head = `"id":"chatcmpl-abc","object":"chat.completion.chunk","created":1700000000,"model":${JSON.stringify(model)},"system_fingerprint":"fp_1"`;
    const chunk = (choices: string, usageInMiddle = false): string => {
      if (!withUsage) return `data: {${head},"choices":${choices}}\n\n`;
      if (usageInMiddle) return `data: {"id":"chatcmpl-abc","usage":null,"object":"chat.completion.chunk","created":1700000000,"model":${JSON.stringify(model)},"system_fingerprint":"fp_1","choices":${choices}}\n\n`;
      return `data: {${head},"choices":${choices},"usage":null}\n\n`;
    };
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
    await send(chunk('[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}]'));
    for (const [i, piece] of pieces.entries()) {
      await send(chunk(`[{"index":0,"delta":{"content":${JSON.stringify(piece)}},"logprobs":null,"finish_reason":null}]`, i === 1), i === 2);
    }
    await send(chunk('[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]'));
    if (withUsage) await send(`data: {${head},"choices":[],"usage":${JSON.stringify(usage)}}\n\n`);
    await send('data: [DONE]\n\n');
    res.end();
    written.push(Buffer.concat(out));
  };
  return { handler, written };
}

/** The raw bytes of a response body, read to the end. */
export async function rawBody(res: Response): Promise<Buffer> {
  return Buffer.from(await res.arrayBuffer());
}
