/** Starts the mock upstream as a pinned child process and talks to its control endpoints. */
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import type { ChildHandle, ChildRegistry } from './children.js';
import type { MockStats } from './mock-stats.js';
import { sendRequest } from './http-util.js';

export interface MockUpstream {
  readonly port: number;
  readonly baseUrl: string;
  readonly handle: ChildHandle;
  readonly chunks: number;
  readStats(): Promise<MockStats>;
  /** Zeroes the counters; sets the SSE chunk spacing when given. */
  resetStats(intervalMs?: number): Promise<void>;
  readCpuPid(): number;
}

export interface MockSpec {
  readonly registry: ChildRegistry;
  readonly benchDir: string;
  readonly tempDir: string;
  readonly cpu: number;
  readonly chunks: number;
  readonly intervalMs: number;
}

function toKeyCounts(value: unknown): Record<string, number> {
  const counts = Object.create(null) as Record<string, number>;
  if (typeof value !== 'object' || value === null) return counts;
  for (const [key, count] of Object.entries(value)) if (typeof count === 'number') counts[key] = count;
  return counts;
}

function toMockStats(value: unknown): MockStats {
  const read = (field: Exclude<keyof MockStats, 'keys'>): number => {
    if (typeof value !== 'object' || value === null) return 0;
    const fieldValue: unknown = Reflect.get(value, field);
    return typeof fieldValue === 'number' ? fieldValue : 0;
  };
  return {
    requests: read('requests'),
    injectedKey: read('injectedKey'),
    mappedModel: read('mappedModel'),
    streamsStarted: read('streamsStarted'),
    usageStreams: read('usageStreams'),
    streamsFinished: read('streamsFinished'),
    activeStreams: read('activeStreams'),
    peakStreams: read('peakStreams'),
    uploadBytes: read('uploadBytes'),
    keys: toKeyCounts(typeof value === 'object' && value !== null ? Reflect.get(value, 'keys') : undefined),
  };
}

function readPortLine(handle: ChildHandle, timeoutMs: number): Promise<number> {
  const stdout = handle.process.stdout;
  if (stdout === null) return Promise.reject(new Error('mock stdout is not piped'));
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: stdout });
    const timer = setTimeout(() => reject(new Error(`mock did not start within ${timeoutMs} ms`)), timeoutMs);
    lines.once('line', (line) => {
      clearTimeout(timer);
      lines.close();
      stdout.resume();
      const parsed: unknown = JSON.parse(line);
      const port = typeof parsed === 'object' && parsed !== null && 'port' in parsed ? Number(parsed.port) : NaN;
      if (Number.isInteger(port) && port > 0) resolve(port);
      else reject(new Error(`mock printed an unexpected line: ${line}`));
    });
    void handle.exited.then(() => reject(new Error(`mock exited early; see ${handle.logPath}`)));
  });
}

export async function startMockUpstream(spec: MockSpec): Promise<MockUpstream> {
  const handle = spec.registry.spawn({
    name: 'mock',
    command: process.execPath,
    args: [
      join(spec.benchDir, 'mock-upstream.js'),
      '--chunks',
      String(spec.chunks),
      '--interval-ms',
      String(spec.intervalMs),
    ],
    cpu: spec.cpu,
    logPath: join(spec.tempDir, 'mock.log'),
    pipeStdout: true,
  });
  const port = await readPortLine(handle, 10_000);
  const baseUrl = `http://127.0.0.1:${port}`;
  return {
    port,
    baseUrl,
    handle,
    chunks: spec.chunks,
    async readStats(): Promise<MockStats> {
      const res = await sendRequest(`${baseUrl}/__bench/stats`, { method: 'GET', timeoutMs: 5_000 });
      return toMockStats(JSON.parse(res.body.toString('utf8')));
    },
    async resetStats(intervalMs?: number): Promise<void> {
      const query = intervalMs === undefined ? '' : `?interval-ms=${intervalMs}`;
      await sendRequest(`${baseUrl}/__bench/reset${query}`, { method: 'POST', timeoutMs: 5_000 });
    },
    readCpuPid: () => handle.pid,
  };
}
