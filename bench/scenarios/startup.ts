/**
 * (E) Start-up time (spawn → GET /health answers 200, measured by the target starter) and idle
 * RSS of the fresh process after it has settled without traffic. For the relay the same is
 * measured for a bare node:http server, the floor any Node relay starts from on this machine.
 */
import { join } from 'node:path';
import type { BenchContext } from '../context.js';
import { findFreePort, waitForHealthy } from '../http-util.js';
import { readRssBytes } from '../proc-stats.js';
import type { RunningTarget } from '../targets.js';
import { MIB, defineMetric, sleep, type MetricValues, type ScenarioCase } from './scenario.js';

const BARE_SERVER = `require('node:http').createServer((q, s) => s.end('ok'))
  .listen(Number(process.argv[1]), '127.0.0.1');`;

async function measureNodeFloor(ctx: BenchContext, idleMs: number): Promise<{ startupMs: number; rssMiB: number }> {
  const port = await findFreePort();
  const startedAt = performance.now();
  const handle = ctx.registry.spawn({
    name: 'bare-node',
    command: process.execPath,
    args: ['-e', BARE_SERVER, String(port)],
    cpu: ctx.proxyCpu,
    logPath: join(ctx.tempDir, 'bare-node.log'),
  });
  try {
    const startupMs = await waitForHealthy(`http://127.0.0.1:${port}/health`, startedAt, 10_000, () =>
      handle.isRunning(),
    );
    await sleep(idleMs);
    return { startupMs, rssMiB: readRssBytes([handle.pid]) / MIB };
  } finally {
    await ctx.registry.stop(handle);
  }
}

async function measureStartup(ctx: BenchContext, target: RunningTarget): Promise<MetricValues> {
  const idleMs = ctx.options.quick ? 500 : 1_000;
  await sleep(idleMs);
  const values: MetricValues = {
    'e.startup_ms': target.startupMs,
    'e.idle_rss_mb': readRssBytes(target.readProxyPids()) / MIB,
  };
  if (target.name !== 'relay') return values;
  const floor = await measureNodeFloor(ctx, idleMs);
  return { ...values, 'e.node_startup_ms': floor.startupMs, 'e.node_idle_rss_mb': floor.rssMiB };
}

export function createStartupCase(): ScenarioCase {
  return {
    id: 'E',
    key: 'E',
    title: 'E: start-up time and idle RSS',
    targets: ['nginx', 'relay'],
    metrics: [
      defineMetric('e.startup_ms', 'E start-up, spawn → /health 200 (ms)', 1),
      defineMetric('e.idle_rss_mb', 'E idle RSS (MiB)', 1),
      defineMetric('e.node_startup_ms', 'E floor: bare node:http server start-up (ms, relay column)', 1, {
        ratios: false,
      }),
      defineMetric('e.node_idle_rss_mb', 'E floor: bare node:http server idle RSS (MiB, relay column)', 1, {
        ratios: false,
      }),
    ],
    run: measureStartup,
  };
}
