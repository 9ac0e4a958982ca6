/** Command-line options of `npm run bench -- …`; defaults in one object per mode. */
import { parseArgs } from 'node:util';
import { BUNDLE_PATH, TSC_ENTRY_PATH } from './relay-command.js';
import { TARGET_NAMES, type TargetName } from './targets.js';

export type ScenarioId = 'A' | 'B' | 'C' | 'D' | 'E' | 'F' | 'G';
const SCENARIO_IDS: readonly ScenarioId[] = ['A', 'B', 'C', 'D', 'E', 'F', 'G'];

export interface BenchOptions {
  readonly quick: boolean;
  readonly reps: number;
  readonly only: readonly ScenarioId[];
  readonly targets: readonly TargetName[];
  /** undefined: the bundle, else dist/src/main.js (see relay-command.ts). */
  readonly relayCommand: string | undefined;
  readonly connections: number;
  readonly throughputSeconds: number;
  readonly warmupSeconds: number;
  /** Warm-up of a target running on Node's JIT (the relay and its variants) in A, F and G. */
  readonly jitWarmupSeconds: number;
  readonly latencyRequests: number;
  readonly streams: readonly number[];
  readonly uploadMiB: number;
  readonly allowInstall: boolean;
  readonly pin: boolean;
  /** Longest wait for a quiet machine before one run, and for all runs together. */
  readonly quietWaitSeconds: number;
  readonly quietBudgetSeconds: number;
  readonly outDir: string | undefined;
}

const FULL = {
  reps: 3,
  throughputSeconds: 8,
  warmupSeconds: 2,
  jitWarmupSeconds: 10,
  latencyRequests: 3_000,
  streams: [200, 1_000, 5_000],
  quietWaitSeconds: 15,
  quietBudgetSeconds: 45,
};
const QUICK = {
  reps: 1,
  throughputSeconds: 4,
  warmupSeconds: 1,
  jitWarmupSeconds: 4,
  latencyRequests: 1_000,
  streams: [200, 1_000, 2_000],
  quietWaitSeconds: 5,
  quietBudgetSeconds: 20,
};

export const USAGE = `Usage: npm run bench -- [options]
  --quick               1 repetition, shorter runs (< 3 minutes)
  --reps N              repetitions per scenario and target (default 3, quick 1)
  --only A,B,C,D,E,F,G  run a subset of scenarios
  --targets LIST        subset of ${TARGET_NAMES.join(',')} (default all;
                        relay-* are config variants of relay, used by F and G)
  --relay-cmd CMD       relay command; {config} and {port} are substituted
                        (default "node <its shebang flags> ${BUNDLE_PATH} -c {config}" when built, else
                        "node ${TSC_ENTRY_PATH} -c {config}"; env BENCH_RELAY_CMD)
  --duration S          scenario A, F and G measuring seconds (default 8, quick 4)
  --jit-warmup S        scenario A, B, F and G warm-up of the relay targets, which run on
                        Node's JIT (default 10, quick 4; direct and nginx: 2, quick 1);
                        C and G-SSE warm the relay targets for half of it
  --requests N          scenario B sequential requests (default 3000, quick 1000)
  --streams LIST        scenario C stream counts (default 200,1000,5000; quick 200,1000,2000)
  --upload-mib N        scenario D upload size in MiB (default 50)
  --quiet-wait S        before each run, wait up to S seconds for other processes to calm
                        down (default 15, quick 5; 0 = never wait)
  --no-install          never apt-get install wrk or nginx
  --no-pin              do not pin with taskset
  --out DIR             where latest.md and latest.json go (default bench/results)
  -h, --help`;

function parseList<T extends string>(value: string | undefined, allowed: readonly T[], flag: string): T[] | undefined {
  if (value === undefined) return undefined;
  const items = value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
  const bad = items.filter((item) => !allowed.some((a) => a.toLowerCase() === item.toLowerCase()));
  if (bad.length > 0) throw new Error(`${flag}: unknown ${bad.join(', ')} (allowed: ${allowed.join(', ')})`);
  return allowed.filter((a) => items.some((item) => item.toLowerCase() === a.toLowerCase()));
}

function parsePositive(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0) throw new Error(`${flag}: expected a positive number, got ${value}`);
  return parsed;
}

export function parseCli(argv: readonly string[], env: NodeJS.ProcessEnv): BenchOptions | 'help' {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      quick: { type: 'boolean', default: false },
      reps: { type: 'string' },
      only: { type: 'string' },
      targets: { type: 'string' },
      'relay-cmd': { type: 'string' },
      duration: { type: 'string' },
      'jit-warmup': { type: 'string' },
      requests: { type: 'string' },
      streams: { type: 'string' },
      'upload-mib': { type: 'string' },
      'quiet-wait': { type: 'string' },
      'no-install': { type: 'boolean', default: false },
      'no-pin': { type: 'boolean', default: false },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) return 'help';
  const mode = values.quick ? QUICK : FULL;
  const streams = values.streams?.split(',').map((s) => parsePositive(s.trim(), '--streams') ?? 0);
  return {
    quick: values.quick,
    reps: Math.round(parsePositive(values.reps, '--reps') ?? mode.reps),
    only: parseList(values.only, SCENARIO_IDS, '--only') ?? SCENARIO_IDS,
    targets: parseList(values.targets, TARGET_NAMES, '--targets') ?? TARGET_NAMES,
    relayCommand: values['relay-cmd'] ?? env['BENCH_RELAY_CMD'],
    connections: 64,
    throughputSeconds: parsePositive(values.duration, '--duration') ?? mode.throughputSeconds,
    warmupSeconds: mode.warmupSeconds,
    jitWarmupSeconds: parsePositive(values['jit-warmup'], '--jit-warmup') ?? mode.jitWarmupSeconds,
    latencyRequests: Math.round(parsePositive(values.requests, '--requests') ?? mode.latencyRequests),
    streams: streams ?? mode.streams,
    uploadMiB: parsePositive(values['upload-mib'], '--upload-mib') ?? 50,
    allowInstall: !values['no-install'],
    pin: !values['no-pin'],
    quietWaitSeconds:
      values['quiet-wait'] === '0' ? 0 : (parsePositive(values['quiet-wait'], '--quiet-wait') ?? mode.quietWaitSeconds),
    quietBudgetSeconds: values['quiet-wait'] === '0' ? 0 : mode.quietBudgetSeconds,
    outDir: values.out,
  };
}
