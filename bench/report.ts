/** Renders the results and targets tables as markdown, and the machine-readable latest.json. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { GoalResult } from './goals.js';
import type { MetricDef, ScenarioCase } from './scenarios/scenario.js';
import type { Sample, Summary } from './summary.js';
import { findRelayVariant } from './relay-variants.js';
import { isRelayVariant, type TargetName } from './targets.js';

export interface ReportMeta {
  readonly generatedAt: string;
  readonly machine: string;
  readonly tools: string;
  readonly method: string;
  readonly relayCommand: string;
  readonly skipped: readonly string[];
  readonly notes: readonly string[];
}

export interface ReportInput {
  readonly meta: ReportMeta;
  readonly cases: readonly ScenarioCase[];
  readonly ranTargets: readonly TargetName[];
  readonly samples: readonly Sample[];
  readonly summary: Summary;
  readonly goals: readonly GoalResult[];
}

function formatNumber(value: number, decimals: number): string {
  if (!Number.isFinite(value)) return '—';
  // No "-0.000": a value that rounds to zero prints as zero.
  const shown = Math.abs(value) < 0.5 * 10 ** -decimals ? 0 : value;
  return shown.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}

function formatRatio(value: number): string {
  return Number.isFinite(value) ? `${value.toFixed(2)}×` : '—';
}

function formatCell(summary: Summary, metric: MetricDef, target: TargetName, ran: readonly TargetName[]): string {
  if (!ran.includes(target)) return 'skipped';
  return formatNumber(summary.read(metric.key, target), metric.decimals);
}

/**
 * Relay variants that ran and that some case measured: each gets a column after relay and a
 * `<variant>/relay` ratio column at the end (none in a run without them, so the table is as before).
 */
export function listVariantColumns(input: Pick<ReportInput, 'cases' | 'ranTargets'>): TargetName[] {
  return input.ranTargets.filter(
    (target) => isRelayVariant(target) && input.cases.some((c) => c.targets.includes(target)),
  );
}

function renderMetricRows(input: ReportInput, metric: MetricDef, variants: readonly TargetName[]): string[] {
  const { summary, ranTargets } = input;
  const columns: readonly TargetName[] = ['direct', 'nginx', 'relay', ...variants];
  const cells = columns.map((t) => formatCell(summary, metric, t, ranTargets));
  const relay = summary.read(metric.key, 'relay');
  const ratioTo = (value: number, base: TargetName): string =>
    metric.ratios ? formatRatio(value / summary.read(metric.key, base)) : '';
  const ratios = [
    ratioTo(relay, 'nginx'),
    ratioTo(relay, 'direct'),
    ...variants.map((v) => ratioTo(summary.read(metric.key, v), 'relay')),
  ];
  const rows = [`| ${metric.label} | ${cells.join(' | ')} | ${ratios.join(' | ')} |`];
  if (metric.addedVsDirect) {
    const added = columns
      .slice(1)
      .map((t) => formatNumber(summary.readAdded(metric.key, t), metric.decimals));
    rows.push(`| ↳ added vs direct | — | ${added.join(' | ')} |${' |'.repeat(2 + variants.length)}`);
  }
  return rows;
}

function renderGoalRow(goal: GoalResult): string {
  const verdict =
    goal.pass === undefined
      ? 'not run'
      : goal.invalid
        ? '**FAIL** (errors in run)'
        : goal.pass
          ? '**PASS**'
          : '**FAIL**';
  const show = (value: number): string =>
    Number.isFinite(value)
      ? `${formatNumber(value, Math.abs(value) < 1 ? 3 : Math.abs(value) < 10 ? 2 : 0)}${goal.unit === '' ? '' : ` ${goal.unit}`}`
      : '—';
  return `| ${goal.label} | ${goal.threshold} | ${show(goal.relay)} | ${verdict} | ${show(goal.nginx)} |`;
}

export function renderMarkdown(input: ReportInput): string {
  const { meta } = input;
  const lines = [
    `# Relay Bartender benchmark — ${meta.generatedAt}`,
    '',
    `- Machine: ${meta.machine}`,
    `- Tools: ${meta.tools}`,
    `- Method: ${meta.method}`,
    `- Relay command: \`${meta.relayCommand}\``,
    ...listVariantColumns(input).map(
      (name) => `- Variant ${name}: the relay's config plus ${findRelayVariant(name)?.description ?? '(unknown)'}`,
    ),
    ...meta.skipped.map((note) => `- ${note}`),
    '',
    '## Results (median of repetitions; "complete" and "arrived whole" rows take the minimum)',
    '',
  ];
  const variants = listVariantColumns(input);
  const headers = [
    'Metric',
    'direct',
    'nginx',
    'relay',
    ...variants,
    'relay/nginx',
    'relay/direct',
    ...variants.map((v) => `${v}/relay`),
  ];
  lines.push(`| ${headers.join(' | ')} |`, `| --- |${' ---: |'.repeat(headers.length - 1)}`);
  for (const scenarioCase of input.cases) {
    lines.push(`| **${scenarioCase.title}** |${' |'.repeat(headers.length - 1)}`);
    for (const metric of scenarioCase.metrics) lines.push(...renderMetricRows(input, metric, variants));
  }
  lines.push('', '## Targets (relay; nginx measured against the same bar for reference)', '');
  lines.push('| Target | Threshold | relay | Result | nginx |', '| --- | --- | ---: | --- | ---: |');
  for (const goal of input.goals) lines.push(renderGoalRow(goal));
  if (meta.notes.length > 0) lines.push('', '## Notes', '', ...meta.notes.map((note) => `- ${note}`));
  return `${lines.join('\n')}\n`;
}

export function renderJson(input: ReportInput): string {
  const nanToNull = (_key: string, value: unknown): unknown =>
    typeof value === 'number' && !Number.isFinite(value) ? null : value;
  return `${JSON.stringify(
    {
      meta: input.meta,
      targets: input.ranTargets,
      summary: input.summary.toJSON(),
      goals: input.goals,
      samples: input.samples,
    },
    nanToNull,
    2,
  )}\n`;
}

/** Writes latest.md and latest.json into `outDir`; returns the markdown. */
export function writeReport(outDir: string, input: ReportInput): string {
  mkdirSync(outDir, { recursive: true });
  const markdown = renderMarkdown(input);
  writeFileSync(join(outDir, 'latest.md'), markdown);
  writeFileSync(join(outDir, 'latest.json'), renderJson(input));
  return markdown;
}
