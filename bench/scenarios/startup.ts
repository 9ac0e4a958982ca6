/**
 * (E) Start-up time (spawn → GET /health answers 200, measured by the target starter) and idle
 * RSS of the fresh process after it has settled without traffic.
 */
import type { BenchContext } from '../context.js';
import { readRssBytes } from '../proc-stats.js';
import type { RunningTarget } from '../targets.js';
import { MIB, defineMetric, sleep, type MetricValues, type ScenarioCase } from './scenario.js';

async function measureStartup(ctx: BenchContext, target: RunningTarget): Promise<MetricValues> {
  await sleep(ctx.options.quick ? 500 : 1_000);
  return {
    'e.startup_ms': target.startupMs,
    'e.idle_rss_mb': readRssBytes(target.readProxyPids()) / MIB,
  };
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
    ],
    run: measureStartup,
  };
}
