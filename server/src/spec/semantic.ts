/**
 * Checks that need more than one field at a time: candidates against the catalog (params.ts),
 * names unique, the grid not too big, the metric fits the task, target and features agree.
 */
import { METRICS, type MetricName } from '../trainers/catalog';
import { type CheckContext } from './context';
import { checkCandidate } from './params';
import { candidateTrialCount, DEFAULT_SAMPLES, MAX_TRIALS } from './search-space';
import { parseDurationMs } from './quantities';
import { nodeAt } from './source';
import { suggest } from './suggest';

export function checkSemantics(ctx: CheckContext): void {
  ctx.spec.models.forEach((_, i) => ctx.source.full || checkCandidate(ctx, i));
  checkCandidateNames(ctx);
  checkTrialCount(ctx);
  checkSelection(ctx);
  checkSelectionQos(ctx);
  checkTargetAndFeatures(ctx);
  checkSplitAndDeploy(ctx);
}

function checkCandidateNames({ spec, source }: CheckContext): void {
  const seen = new Map<string, number>();
  spec.models.forEach((c, i) => {
    const first = seen.get(c.name);
    if (first === undefined) {
      seen.set(c.name, i);
      return;
    }
    const line = source.lines.linePos(nodeAt(source.doc, ['models', first, 'name']).value?.range?.[0] ?? 0).line;
    source.atValue(
      ['models', i, 'name'],
      `duplicate candidate name ${JSON.stringify(c.name)} (first used on line ${line})`,
    );
  });
}

/** A search that expands past MAX_TRIALS is almost surely a mistake, unless maxTrials caps it. */
function checkTrialCount({ spec, source }: CheckContext): void {
  const strategy = spec.search?.strategy ?? 'grid';
  const samples = spec.search?.samples ?? DEFAULT_SAMPLES;
  const capped = spec.search?.maxTrials !== undefined;
  let total = 0;
  for (const [i, c] of spec.models.entries()) {
    const count = candidateTrialCount(c, strategy, samples);
    if (!Number.isFinite(count)) continue; // a float range without step, reported on its own
    // Past MAX_SAFE_INTEGER trial indexes lose precision, so even a cap cannot help.
    if (count > Number.MAX_SAFE_INTEGER || (count > MAX_TRIALS && !capped)) {
      const message = `this grid expands to ${count.toPrecision(3)} trials; narrow it or set search.maxTrials (at most ${MAX_TRIALS} without it)`;
      source.atKey(['models', i, 'params'], message);
      return;
    }
    total += count;
  }
  if (total > MAX_TRIALS && !capped) {
    const message = `the candidates expand to ${total} trials; set search.maxTrials (at most ${MAX_TRIALS} without it)`;
    source.atKey(['models'], message);
  }
}

function checkSelection({ spec, source }: CheckContext): void {
  const names = Object.keys(METRICS);
  const checkMetric = (metric: string, report: (message: string, suggestion?: string) => void): void => {
    const info = METRICS[metric as MetricName];
    const sameTask = names.filter((m) => METRICS[m as MetricName].task === spec.task);
    if (!info)
      report(
        `unknown metric ${JSON.stringify(metric)} (${spec.task} has ${sameTask.join(', ')})`,
        suggest(metric, sameTask) ?? suggest(metric, names),
      );
    else if (info.task !== spec.task)
      report(`metric ${JSON.stringify(metric)} is for ${info.task}, but the task is ${spec.task}`);
  };
  const sel = spec.selection;
  checkMetric(sel.metric, (m, s) => source.atValue(['selection', 'metric'], m, s));
  for (const bound of ['minMetric', 'maxMetric'] as const) {
    for (const metric of Object.keys(sel.constraints?.[bound] ?? {})) {
      checkMetric(metric, (m, s) => source.atKey(['selection', 'constraints', bound, metric], m, s));
    }
  }
}

/**
 * `selection.qos` must ask for something (a budget, a rate or a cost ceiling) on a tier the
 * cluster has; a zero budget reads as "none" elsewhere, so it is refused here.
 */
function checkSelectionQos({ spec, source, tiers }: CheckContext): void {
  const qos = spec.selection.qos;
  if (!qos) return;
  if (tiers && !tiers.includes(qos.tier)) {
    const message = `unknown tier ${JSON.stringify(qos.tier)} (the cluster has ${tiers.join(', ') || 'no tiers'})`;
    source.atValue(['selection', 'qos', 'tier'], message, suggest(qos.tier, tiers));
  }
  for (const key of ['p99', 'p95', 'p50'] as const) {
    const d = qos[key];
    if (d !== undefined && parseDurationMs(d) <= 0)
      source.atValue(['selection', 'qos', key], `a ${key} budget of ${d} can never be met: give a duration above zero`);
  }
  const asks = ['p99', 'p95', 'p50', 'rps', 'maxCostPerHour'] as const;
  if (!asks.some((k) => qos[k] !== undefined))
    source.atKey(['selection', 'qos'], `selection.qos asks for nothing: give at least one of ${asks.join(', ')}`);
}

function checkTargetAndFeatures({ spec, source }: CheckContext): void {
  const seen = new Set<string>();
  (spec.features ?? []).forEach((f, i) => {
    if (source.full) return;
    if (f === spec.target) source.atValue(['features', i], `the target ${JSON.stringify(f)} cannot also be a feature`);
    else if (seen.has(f)) source.atValue(['features', i], `feature ${JSON.stringify(f)} is listed twice`);
    seen.add(f);
  });
}

function checkSplitAndDeploy({ spec, source }: CheckContext): void {
  const split = spec.split;
  if (split && 'holdout' in split && split.holdout.stratify && spec.task !== 'classification') {
    source.atValue(
      ['split', 'holdout', 'stratify'],
      'stratify keeps class proportions, so it needs task: classification',
    );
  }
  const deploy = spec.deploy;
  if (
    deploy?.minReplicas !== undefined &&
    deploy.maxReplicas !== undefined &&
    deploy.minReplicas > deploy.maxReplicas
  ) {
    source.atValue(
      ['deploy', 'minReplicas'],
      `minReplicas ${deploy.minReplicas} is above maxReplicas ${deploy.maxReplicas}`,
    );
  }
}
