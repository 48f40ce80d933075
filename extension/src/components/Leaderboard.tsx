/** A run's trials ranked by its metric and goal, as the CLI's leaderboard shows them. */
import { fmtMetric } from '@stratum/server/dist/cli/render';
import { rankTrials } from '@stratum/server/dist/scheduler/selection';
import { State, type Run, type Trial } from '@stratum/proto';
import * as React from 'react';

import { stateName, trialCounts } from '../model/run-events';

function params(json: string): string {
  try {
    return Object.entries(JSON.parse(json || '{}') as Record<string, unknown>)
      .map(([k, v]) => `${k}=${typeof v === 'number' && !Number.isInteger(v) ? v.toPrecision(3) : String(v)}`)
      .join(' ');
  } catch {
    return json;
  }
}

export function rankedTrials(run: Run): Trial[] {
  const rule = { metric: run.metric, goal: run.goal === 'minimize' ? ('minimize' as const) : ('maximize' as const) };
  return rankTrials(
    run.trials.map((t) => ({ trial: t, id: t.id, metrics: t.metrics, modelSizeBytes: Number(t.modelSizeBytes) })),
    rule,
  ).map((c) => c.trial);
}

export function TrialStates({ run }: { readonly run: Run }) {
  const c = trialCounts(run);
  return (
    <div className="jp-stratum-trial-states">
      {(Object.keys(c) as (keyof typeof c)[]).map((k) => (
        <span key={k} className={`jp-stratum-chip jp-stratum-chip-${k}`} data-count={c[k]}>
          {k} {c[k]}
        </span>
      ))}
    </div>
  );
}

export function Leaderboard({ run }: { readonly run: Run }) {
  const ranked = rankedTrials(run);
  return (
    <table className="jp-stratum-table jp-stratum-leaderboard">
      <thead>
        <tr>
          <th>rank</th>
          <th>candidate</th>
          <th>state</th>
          <th>{run.metric}</th>
        </tr>
      </thead>
      <tbody>
        {ranked.map((t, i) => {
          const best = t.id === run.best?.trialId;
          const note = best ? 'best' : t.excludedReason ? `set aside: ${t.excludedReason}` : t.stateReason;
          return (
            <tr
              key={t.id}
              className={best ? 'jp-stratum-best' : t.excludedReason ? 'jp-stratum-excluded' : undefined}
              data-state={stateName(t.state)}
              title={`trial #${t.index} ${params(t.paramsJson)}${note ? ` · ${note}` : ''}`}
            >
              <td>
                {t.metrics[run.metric] !== undefined ? i + 1 : '-'}
                {best ? ' ★' : ''}
              </td>
              <td>
                {t.candidate} <span className="jp-stratum-muted">#{t.index}</span>
              </td>
              <td>
                {stateName(t.state)}
                {t.state === State.RUNNING ? ` ${Math.round(t.progress * 100)}%` : ''}
              </td>
              <td>{fmtMetric(t.metrics[run.metric])}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
