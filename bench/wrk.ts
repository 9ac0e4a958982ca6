/** Runs wrk (pinned to the load CPU) with a Lua script that POSTs the chat body; parses its summary. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchContext } from './context.js';
import { CLIENT_API_KEY, createChatRequestBody } from './payloads.js';

export interface WrkResult {
  readonly requests: number;
  readonly seconds: number;
  readonly rps: number;
  readonly errors: number;
}

export function writeWrkScript(dir: string): string {
  const path = join(dir, 'chat-post.lua');
  // Long-bracket strings need no escaping of the JSON body.
  writeFileSync(
    path,
    `wrk.method = "POST"
wrk.body = [==[${createChatRequestBody(false)}]==]
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer ${CLIENT_API_KEY}"
`,
  );
  return path;
}

function toSeconds(value: number, unit: string): number {
  if (unit === 'ms') return value / 1_000;
  if (unit === 'm') return value * 60;
  if (unit === 'us') return value / 1e6;
  return value;
}

export function parseWrkOutput(text: string): WrkResult {
  const total = /(\d+) requests in ([\d.]+)(us|ms|s|m)\b/.exec(text);
  if (total?.[1] === undefined || total[2] === undefined || total[3] === undefined) {
    throw new Error(`cannot parse wrk output:\n${text}`);
  }
  const requests = Number(total[1]);
  const seconds = toSeconds(Number(total[2]), total[3]);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(text)?.[1] ?? 0);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const socketErrors = socket === null ? 0 : socket.slice(1).reduce((sum, n) => sum + Number(n), 0);
  return { requests, seconds, rps: requests / seconds, errors: non2xx + socketErrors };
}

export async function runWrk(ctx: BenchContext, url: string, script: string, seconds: number): Promise<WrkResult> {
  const wrkPath = ctx.wrk.path;
  if (wrkPath === undefined) throw new Error('wrk is not available');
  const handle = ctx.registry.spawn({
    name: 'wrk',
    command: wrkPath,
    // wrk takes whole seconds.
    args: [
      '-t1',
      `-c${ctx.options.connections}`,
      `-d${Math.max(1, Math.round(seconds))}s`,
      '--timeout',
      '10s',
      '-s',
      script,
      url,
    ],
    cpu: ctx.loadCpu,
    logPath: join(ctx.tempDir, 'wrk.log'),
    pipeStdout: true,
  });
  const parts: Buffer[] = [];
  const stdout = handle.process.stdout;
  const drained = new Promise<void>((resolve) => {
    if (stdout === null) return resolve();
    stdout.on('data', (part: Buffer) => parts.push(part));
    stdout.once('close', resolve);
  });
  const killer = setTimeout(() => void ctx.registry.stop(handle), (seconds + 30) * 1_000);
  const exit = await handle.exited;
  await Promise.race([drained, new Promise((resolve) => setTimeout(resolve, 2_000))]);
  clearTimeout(killer);
  await ctx.registry.stop(handle);
  const text = Buffer.concat(parts).toString('utf8');
  if (exit.code !== 0) throw new Error(`wrk exited with ${exit.code ?? exit.signal ?? '?'}:\n${text}`);
  return parseWrkOutput(text);
}
