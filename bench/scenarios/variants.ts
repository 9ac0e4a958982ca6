/**
 * F and G together: when a run selects both, their wrk halves measure the plain relay under A's
 * load in exactly the same way, so one case measures it once per repetition and reports it for both
 * (f.* and g.* keys), then relay-routed (F) and relay-usage (G). This saves one relay run of ~11 s
 * per repetition and changes no number's meaning: each variant is still paired with the relay run of
 * its own repetition (relay-routed right after it, relay-usage one run later).
 */
import type { BenchContext } from '../context.js';
import type { RunningTarget } from '../targets.js';
import { defineAccountingMetrics, defineAccountingPairs, toAccountingValues } from './accounting.js';
import { defineRoutingMetrics, defineRoutingPairs, toRoutingValues } from './routing.js';
import type { MetricValues, ScenarioCase } from './scenario.js';
import { measureWrkThroughput } from './throughput.js';

async function measureVariants(ctx: BenchContext, target: RunningTarget): Promise<MetricValues> {
  const run = await measureWrkThroughput(ctx, target);
  const routing = target.name === 'relay-usage' ? {} : toRoutingValues(target, run);
  // Last: for relay-usage it stops the relay to count the rows it wrote.
  const accounting = target.name === 'relay-routed' ? {} : await toAccountingValues(ctx, target, run);
  return { ...routing, ...accounting };
}

export function createRoutingAndAccountingCase(connections: number): ScenarioCase {
  return {
    id: 'F',
    key: 'F+G',
    title:
      `F and G: routing and accounting cost, A's load (${connections} connections, wrk): relay vs ` +
      'relay-routed (10 backends, 50 patterns) and relay-usage (SQLite); one relay run serves both',
    targets: ['relay', 'relay-routed', 'relay-usage'],
    metrics: [...defineRoutingMetrics(), ...defineAccountingMetrics()],
    pairedRatios: [...defineRoutingPairs(), ...defineAccountingPairs()],
    run: measureVariants,
  };
}
