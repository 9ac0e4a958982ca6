/**
 * Opens many concurrent SSE streams (node:http, one socket each), ramped in batches so the
 * listen backlog is never the thing measured, and checks every byte of every stream.
 */
import { Agent, request, type ClientRequest } from 'node:http';

export interface StreamRunSpec {
  readonly url: string;
  readonly count: number;
  readonly body: string;
  readonly headers: Record<string, string>;
  readonly expected: Buffer;
  /** Streams opened per ramp step and the pause between steps. */
  readonly batch: number;
  readonly batchIntervalMs: number;
  /** Hard limit for the whole run; unfinished streams are destroyed and count as failed. */
  readonly deadlineMs: number;
}

export interface StreamOutcome {
  readonly intact: boolean;
  /** Request start → first body byte, ms (NaN if none arrived). */
  readonly firstChunkMs: number;
  readonly error: string | undefined;
}

export interface StreamRunResult {
  readonly outcomes: readonly StreamOutcome[];
  readonly wallMs: number;
}

function openStream(spec: StreamRunSpec, agent: Agent, live: Set<ClientRequest>): Promise<StreamOutcome> {
  return new Promise((resolve) => {
    const startedAt = performance.now();
    let firstChunkMs = Number.NaN;
    let settled = false;
    const settle = (intact: boolean, error: string | undefined): void => {
      if (settled) return;
      settled = true;
      live.delete(req);
      resolve({ intact, firstChunkMs, error });
    };
    const req = request(spec.url, {
      method: 'POST',
      agent,
      headers: { ...spec.headers, 'content-length': String(Buffer.byteLength(spec.body)) },
    });
    live.add(req);
    req.once('response', (res) => {
      const parts: Buffer[] = [];
      res.on('data', (part: Buffer) => {
        if (parts.length === 0) firstChunkMs = performance.now() - startedAt;
        parts.push(part);
      });
      res.once('end', () => {
        const intact = res.statusCode === 200 && Buffer.concat(parts).equals(spec.expected);
        settle(intact, intact ? undefined : `status ${res.statusCode ?? '?'} or bytes differ`);
      });
      res.once('error', (error) => settle(false, error.message));
      res.once('close', () => settle(false, 'closed before end'));
    });
    req.once('error', (error) => settle(false, error.message));
    req.end(spec.body);
  });
}

export async function runStreams(spec: StreamRunSpec): Promise<StreamRunResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY });
  const live = new Set<ClientRequest>();
  const pending: Promise<StreamOutcome>[] = [];
  const startedAt = performance.now();
  const deadline = setTimeout(() => {
    for (const req of live) req.destroy(new Error('bench deadline reached'));
  }, spec.deadlineMs);
  try {
    for (let opened = 0; opened < spec.count; ) {
      const size = Math.min(spec.batch, spec.count - opened);
      for (let i = 0; i < size; i += 1) pending.push(openStream(spec, agent, live));
      opened += size;
      if (opened < spec.count) await new Promise((resolve) => setTimeout(resolve, spec.batchIntervalMs));
    }
    const outcomes = await Promise.all(pending);
    return { outcomes, wallMs: performance.now() - startedAt };
  } finally {
    clearTimeout(deadline);
    agent.destroy();
  }
}
