/**
 * (D) A large multipart upload to /v1/audio/transcriptions, streamed from a generator: wall time
 * and how much the proxy's RSS grows (a proxy that buffers the body grows by its size).
 */
import type { BenchContext } from '../context.js';
import { startMachineWatch } from '../machine-cpu.js';
import { readRssBytes, startRssSampler } from '../proc-stats.js';
import type { RunningTarget } from '../targets.js';
import { sendUpload } from '../upload-client.js';
import {
  MIB,
  defineMetric,
  defineUsageMetrics,
  sleep,
  toUsageValues,
  type MetricValues,
  type ScenarioCase,
} from './scenario.js';

async function measureUpload(ctx: BenchContext, target: RunningTarget): Promise<MetricValues> {
  const url = `${target.baseUrl}/v1/audio/transcriptions`;
  const fileBytes = Math.round(ctx.options.uploadMiB * MIB);
  await sendUpload(url, MIB, 30_000); // warm-up: the multipart code path is loaded once
  await sleep(200);
  const pids = target.readProxyPids();
  const baseline = readRssBytes(pids);
  const watched = [...pids, ctx.mock.readCpuPid()];
  const machine = startMachineWatch(watched, ctx.clockTicks);
  const sampler = startRssSampler(pids, 20);
  const result = await sendUpload(url, fileBytes, 120_000);
  const peak = sampler.stop();
  const usage = machine.stop(watched);
  const ok = result.status === 200 && result.receivedBytes === result.sentBytes;
  if (!ok) {
    ctx.notes.push(
      `D ${target.name}: status ${result.status}, mock received ${result.receivedBytes} of ${result.sentBytes} bytes`,
    );
  }
  return {
    'd.wall_s': result.wallMs / 1_000,
    'd.rss_growth_mb': pids.length === 0 ? Number.NaN : (peak - baseline) / MIB,
    'd.ok': ok ? 1 : 0,
    ...toUsageValues('d', usage),
  };
}

export function createUploadCase(uploadMiB: number): ScenarioCase {
  return {
    id: 'D',
    key: 'D',
    title: `D: ${uploadMiB} MiB multipart upload`,
    targets: ['direct', 'nginx', 'relay'],
    metrics: [
      defineMetric('d.wall_s', `D ${uploadMiB} MiB upload wall time (s)`, 3),
      defineMetric('d.rss_growth_mb', 'D proxy RSS growth during upload (MiB)', 1),
      defineMetric('d.ok', 'D upload arrived whole (1 = yes)', 0, { combine: 'min', ratios: false }),
      ...defineUsageMetrics('d', 'D'),
    ],
    run: measureUpload,
  };
}
