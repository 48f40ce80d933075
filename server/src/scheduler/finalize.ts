/**
 * Closing a run once every trial is terminal: select the best trial by the spec's rule,
 * record why others were set aside, register the winner's model with its lineage.
 *
 * A rule with `selection.qos` first needs its candidates profiled (qos-selection.ts, async):
 * `qosPlan` says which, in ranked order, and `finalizeRun` takes the set-asides it measured.
 */
import { State } from '@stratum/proto';

import type { PipelineSpec } from '../spec/schema';
import { parseSizeBytes } from '../spec';
import type { ModelInfo } from '../store/model-info';
import type { ModelRepo } from '../store/models';
import type { RunRepo, RunRow, TrialRow } from '../store/runs';
import { latencyRuleFromSpec, type LatencyRule } from '../profiler/latency-selection';
import { exclusionReason, rankTrials, selectBest, type SelectionRule } from './selection';

export function selectionRuleOf(spec: PipelineSpec, goal: 'maximize' | 'minimize'): SelectionRule {
  const c = spec.selection.constraints;
  return {
    metric: spec.selection.metric,
    goal,
    maxModelSizeBytes: c?.maxModelSize !== undefined ? parseSizeBytes(c.maxModelSize) : undefined,
    minMetric: c?.minMetric,
    maxMetric: c?.maxMetric,
  };
}

/** What profiling the candidates against `selection.qos` decided. */
export interface QosOutcome {
  /** The rule in words, e.g. "p99 ≤ 10 ms on edge". */
  readonly rule: string;
  /** Trial id → why the QoS set it aside, with the measured number. */
  readonly excluded: ReadonlyMap<string, string>;
}

export interface QosPlan {
  readonly rule: LatencyRule;
  /** Succeeded trials that pass the other constraints, best first by the metric (ties: earlier first, as selectBest). */
  readonly ranked: readonly TrialRow[];
}

const candidateOf = (t: TrialRow) => ({
  id: t.id,
  metrics: JSON.parse(t.metrics_json) as Record<string, number>,
  modelSizeBytes: t.model_size,
});

/** The candidates to profile for the spec's `selection.qos`, or undefined when it has none. */
export function qosPlan(run: RunRow, trials: readonly TrialRow[]): QosPlan | undefined {
  const spec = JSON.parse(run.spec_json) as PipelineSpec;
  if (!spec.selection.qos) return undefined;
  const rule = selectionRuleOf(spec, run.goal as 'maximize' | 'minimize');
  const eligible = trials
    .filter((t) => t.state === State.SUCCEEDED)
    .map((t) => ({ ...candidateOf(t), row: t }))
    .filter((c) => exclusionReason(c, rule) === undefined);
  // rankTrials' sort is stable: ties keep trial order, as selectBest breaks them.
  return { rule: latencyRuleFromSpec(spec.selection.qos), ranked: rankTrials(eligible, rule).map((c) => c.row) };
}

/** Reads what the registry records about a model artifact (signature, classes, ...). */
export type DescribeModel = (digest: string, format: string) => ModelInfo;

export function finalizeRun(
  run: RunRow,
  trials: readonly TrialRow[],
  deps: { runs: RunRepo; models: ModelRepo; describeModel: DescribeModel; now: number },
  qos?: QosOutcome,
): void {
  const spec = JSON.parse(run.spec_json) as PipelineSpec;
  const rule = selectionRuleOf(spec, run.goal as 'maximize' | 'minimize');
  const succeeded = trials.filter((t) => t.state === State.SUCCEEDED);
  const selected = selectBest(succeeded.filter((t) => !qos?.excluded.has(t.id)).map(candidateOf), rule);
  const { bestId } = selected;
  const excluded = new Map([...selected.excluded, ...(qos?.excluded ?? [])]);
  deps.runs.transaction(() => {
    for (const [id, reason] of excluded) deps.runs.updateTrial(id, { excluded_reason: reason });
    const best = trials.find((t) => t.id === bestId);
    if (!best) {
      const failed = trials.filter((t) => t.state === State.FAILED);
      const reason =
        succeeded.length === 0
          ? `all ${trials.length} trials failed${failed[0] ? `; first: ${failed[0].state_reason}` : ''}`
          : qos && qos.excluded.size > 0
            ? `no candidate meets ${qos.rule}: ${excluded.size} set aside, each trial says why`
            : `no trial met the selection rule (${succeeded.length} set aside)`;
      deps.runs.updateRun(run.id, { state: State.FAILED, state_reason: reason, finished_at: deps.now });
      return;
    }
    const version = deps.models.register(
      {
        name: run.name,
        format: best.model_format,
        digest: best.model_digest,
        size: best.model_size,
        metrics: JSON.parse(best.metrics_json) as Record<string, number>,
        info: deps.describeModel(best.model_digest, best.model_format),
        source: 'trained',
        lineage: {
          runId: run.id,
          trialId: best.id,
          specHash: run.spec_hash,
          dataHash: run.data_hash,
          paramsJson: best.params_json,
          trainer: best.trainer,
          backend: best.backend,
          candidate: best.candidate,
          versions: { stratum: STRATUM_VERSION, node: process.versions.node },
        },
      },
      deps.now,
    );
    const counts = `${succeeded.length}/${trials.length} trials succeeded`;
    deps.runs.updateRun(run.id, {
      state: State.SUCCEEDED,
      state_reason: counts,
      finished_at: deps.now,
      best_trial_id: best.id,
      model_name: run.name,
      model_version: version,
    });
  });
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
export const STRATUM_VERSION: string = (require('../../package.json') as { version: string }).version;
