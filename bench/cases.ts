/** Turns the options into the ordered list of scenario cases to run. */
import type { BenchContext } from './context.js';
import { createAccountingStreamsCase, createAccountingThroughputCase } from './scenarios/accounting.js';
import { createFanoutCase } from './scenarios/fanout.js';
import { createLatencyCase } from './scenarios/latency.js';
import { createRoutingCase } from './scenarios/routing.js';
import type { ScenarioCase } from './scenarios/scenario.js';
import { createStartupCase } from './scenarios/startup.js';
import { createThroughputCase } from './scenarios/throughput.js';
import { createUploadCase } from './scenarios/upload.js';
import { createRoutingAndAccountingCase } from './scenarios/variants.js';

/** Descriptors one proxied stream needs in the proxy (client side + upstream side), plus spare. */
function countNeededFds(streams: number): number {
  return streams * 2 + 256;
}

export function selectCases(ctx: BenchContext): ScenarioCase[] {
  const { options } = ctx;
  const cases: ScenarioCase[] = [];
  const wants = (id: string): boolean => options.only.some((only) => only === id);
  if (wants('A') && ctx.wrk.path !== undefined) cases.push(createThroughputCase(options.connections));
  if (wants('B')) cases.push(createLatencyCase());
  if (wants('C')) {
    for (const streams of options.streams) {
      if (countNeededFds(streams) > ctx.fdLimit) {
        ctx.notes.push(
          `C ${streams} streams skipped: needs ~${countNeededFds(streams)} open files, limit is ${ctx.fdLimit}`,
        );
      } else {
        cases.push(createFanoutCase(streams, ctx.mock.chunks));
      }
    }
  }
  if (wants('D')) cases.push(createUploadCase(options.uploadMiB));
  if (wants('E')) cases.push(createStartupCase());
  const hasWrk = ctx.wrk.path !== undefined;
  // F and G's wrk halves share their plain relay run when both are selected (scenarios/variants.ts).
  if (wants('F') && wants('G') && hasWrk) cases.push(createRoutingAndAccountingCase(options.connections));
  else if (wants('F') && hasWrk) cases.push(createRoutingCase(options.connections));
  else if (wants('G') && hasWrk) cases.push(createAccountingThroughputCase(options.connections));
  if (wants('G')) cases.push(createAccountingStreamsCase());
  return cases;
}
