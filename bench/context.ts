/** The state every scenario receives; created once by run.ts, never a module global. */
import type { ChildRegistry } from './children.js';
import type { BenchOptions } from './cli.js';
import type { MockUpstream } from './mock-process.js';
import type { ToolInfo } from './tools.js';

export interface BenchContext {
  readonly options: BenchOptions;
  readonly registry: ChildRegistry;
  readonly mock: MockUpstream;
  /** Repository root (cwd for the relay command). */
  readonly rootDir: string;
  /** dist/bench, where the compiled mock lives. */
  readonly benchDir: string;
  /** Per-run scratch directory: configs, logs, nginx pid file. */
  readonly tempDir: string;
  readonly clockTicks: number;
  readonly proxyCpu: number;
  readonly loadCpu: number;
  readonly fdLimit: number;
  readonly wrk: ToolInfo;
  readonly nginx: ToolInfo;
  readonly notes: string[];
}
