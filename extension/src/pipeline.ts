/**
 * A run's pipeline as a graph: data → transforms → candidates → evaluation → selection →
 * deployment, each node with a state taken from the run. Pure functions; the view draws SVG.
 */
import { State, type Deployment, type Run } from '@stratum/proto';
import { parse } from 'yaml';

import { isTerminal } from './model/run-events';

export type Stage = 'data' | 'transform' | 'candidate' | 'evaluation' | 'selection' | 'deployment';
export type NodeState = 'done' | 'active' | 'pending' | 'failed' | 'unavailable';

export interface GraphNode {
  readonly id: string;
  readonly stage: Stage;
  readonly label: string;
  readonly detail: string;
  readonly state: NodeState;
}

/** Rows from top to bottom; every node of a row feeds every node of the next. */
export interface PipelineGraph {
  readonly rows: readonly (readonly GraphNode[])[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function readSpec(yaml: string): Obj {
  try {
    const v: unknown = parse(yaml);
    return isObj(v) ? v : {};
  } catch {
    return {};
  }
}

function transformNode(item: unknown, i: number): { label: string; detail: string } {
  if (!isObj(item)) return { label: `transform ${i + 1}`, detail: '' };
  const [kind, body] = Object.entries(item)[0] ?? [`transform ${i + 1}`, undefined];
  const cols = isObj(body) && Array.isArray(body.columns) ? body.columns.map(String).join(', ') : '';
  const name = isObj(body) && typeof body.name === 'string' ? body.name : '';
  return { label: kind, detail: cols || name };
}

function evaluationDetail(split: unknown, metric: string): string {
  if (isObj(split) && isObj(split.kfold)) return `${String(split.kfold.k ?? 5)}-fold, ${metric}`;
  if (isObj(split) && isObj(split.holdout)) return `holdout ${String(split.holdout.test ?? 0.25)}, ${metric}`;
  return metric;
}

/** What the control plane says about deployments, for the graph's last node. */
export type DeploymentInfo =
  | { readonly available: false }
  | { readonly available: true; readonly deployments: readonly Pick<Deployment, 'name' | 'plan'>[] };

function deploymentNode(run: Run, info: DeploymentInfo): GraphNode {
  const base = { id: 'deployment', stage: 'deployment' as const, label: 'deployment' };
  if (!info.available) return { ...base, detail: 'not offered by this control plane', state: 'unavailable' };
  const best = run.best;
  const deployed = best
    ? info.deployments.filter((d) => d.plan?.modelName === best.modelName && d.plan.modelVersion === best.modelVersion)
    : [];
  return deployed.length > 0
    ? { ...base, detail: deployed.map((d) => d.name).join(', '), state: 'done' }
    : { ...base, detail: 'not deployed', state: 'pending' };
}

export function pipelineGraph(run: Run, deployments: DeploymentInfo = { available: false }): PipelineGraph {
  const spec = readSpec(run.specYaml);
  const anyDone = run.trials.some((t) => t.state === State.SUCCEEDED);
  const allDone = run.trials.length > 0 && run.trials.every((t) => isTerminal(t.state));
  const started = run.trials.some((t) => t.state !== State.PENDING && t.state !== State.UNSPECIFIED);
  const failedRun = run.state === State.FAILED && !anyDone;
  const prep: NodeState = failedRun
    ? 'failed'
    : started || anyDone
      ? 'done'
      : run.state === State.RUNNING
        ? 'active'
        : 'pending';

  const data = isObj(spec.data) ? String(spec.data.source ?? '') : '';
  const rows: GraphNode[][] = [
    [{ id: 'data', stage: 'data', label: 'data', detail: data.split('/').pop() ?? data, state: prep }],
  ];
  const transforms = Array.isArray(spec.transforms) ? spec.transforms : [];
  transforms.forEach((item, i) =>
    rows.push([{ id: `transform-${i}`, stage: 'transform', ...transformNode(item, i), state: prep }]),
  );

  const candidates = new Map<string, string>();
  for (const m of Array.isArray(spec.models) ? spec.models : []) {
    if (isObj(m) && typeof m.name === 'string') candidates.set(m.name, String(m.trainer ?? ''));
  }
  for (const t of run.trials) if (!candidates.has(t.candidate)) candidates.set(t.candidate, t.trainer);
  rows.push(
    [...candidates].map(([name, trainer]) => {
      const trials = run.trials.filter((t) => t.candidate === name);
      const ok = trials.filter((t) => t.state === State.SUCCEEDED).length;
      const state: NodeState = trials.some((t) => t.state === State.RUNNING)
        ? 'active'
        : trials.length > 0 && trials.every((t) => isTerminal(t.state))
          ? ok > 0
            ? 'done'
            : 'failed'
          : ok > 0
            ? 'active'
            : 'pending';
      return {
        id: `candidate-${name}`,
        stage: 'candidate',
        label: name,
        detail: `${trainer} · ${ok}/${trials.length}`,
        state,
      };
    }),
  );

  const evaluation: NodeState = failedRun ? 'failed' : allDone ? 'done' : anyDone ? 'active' : 'pending';
  rows.push([
    {
      id: 'evaluation',
      stage: 'evaluation',
      label: 'evaluation',
      detail: evaluationDetail(spec.split, run.metric),
      state: evaluation,
    },
  ]);
  const selection: NodeState = run.best
    ? 'done'
    : run.state === State.FAILED
      ? 'failed'
      : run.state === State.CANCELLED
        ? 'failed'
        : 'pending';
  const best = run.best
    ? `best: ${run.best.candidate} → ${run.best.modelName}:${run.best.modelVersion}`
    : `${run.goal} ${run.metric}`;
  rows.push([{ id: 'selection', stage: 'selection', label: 'selection', detail: best, state: selection }]);
  rows.push([deploymentNode(run, deployments)]);
  return { rows };
}

export interface Placed {
  readonly node: GraphNode;
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
}

export interface Layout {
  readonly width: number;
  readonly height: number;
  readonly nodes: readonly Placed[];
  readonly edges: readonly { readonly x1: number; readonly y1: number; readonly x2: number; readonly y2: number }[];
}

/** Places rows top to bottom, nodes of a row side by side (wrapping past `perRow`). */
export function layoutGraph(graph: PipelineGraph, width = 300, perRow = 3): Layout {
  const h = 34;
  const gap = 14;
  const margin = 6;
  const nodes: Placed[] = [];
  const rowsOut: Placed[][] = [];
  let y = margin;
  for (const row of graph.rows) {
    const placedRow: Placed[] = [];
    for (let start = 0; start < row.length; start += perRow) {
      const chunk = row.slice(start, start + perRow);
      const w = (width - 2 * margin - (chunk.length - 1) * 8) / chunk.length;
      chunk.forEach((node, i) => placedRow.push({ node, x: margin + i * (w + 8), y, w, h }));
      y += h + 8;
    }
    y += gap - 8;
    rowsOut.push(placedRow);
    nodes.push(...placedRow);
  }
  const edges = rowsOut.slice(1).flatMap((row, i) => {
    const prev = rowsOut[i]!;
    const lastOfPrev = prev.filter((p) => p.y === Math.max(...prev.map((q) => q.y)));
    const firstOfRow = row.filter((p) => p.y === Math.min(...row.map((q) => q.y)));
    return lastOfPrev.flatMap((a) =>
      firstOfRow.map((b) => ({ x1: a.x + a.w / 2, y1: a.y + a.h, x2: b.x + b.w / 2, y2: b.y })),
    );
  });
  return { width, height: y - gap + margin + 8, nodes, edges };
}
