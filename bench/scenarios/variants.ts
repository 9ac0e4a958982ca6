/**
 * F and G together: when a run selects both, their wrk halves measure the plain relay under A's
 * load in exactly the same way, so one case measures it once per repetition and reports it for both
 * (f.* and g.* keys), beside relay-routed (F) and relay-usage (G). The three run at once and are
 * measured in turns of a few seconds (measureWrkInterleaved), so each variant is paired with relay
 * windows taken seconds apart.
 */
import { defineAccountingMetrics, defineAccountingPairs, toAccountingValues } from './accounting.js';
import { defineRoutingMetrics, defineRoutingPairs, toRoutingValues } from './routing.js';
import type { MetricValues, ScenarioCase } from './scenario.js';
import { measureInTurns } from './throughput.js';

const measureVariants = measureInTurns(async (ctx, target, run): Promise<MetricValues> => {
  const routing = target.name === 'relay-usage' ? {} : toRoutingValues(target, run);
  // Last: for relay-usage it stops the relay to count the rows it wrote.
  const accounting = target.name === 'relay-routed' ? {} : await toAccountingValues(ctx, target, run);
  return { ...routing, ...accounting };
});

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
    runTogether: measureVariants,
  };
}
