/** The Runs section: runs with their state; the selected run live (trial states, leaderboard, pipeline). */
import { fmtMetric } from '@stratum/server/dist/cli/render';
import type { Run } from '@stratum/proto';
import * as React from 'react';

import type { StratumModel } from '../model';
import { runFraction, stateName } from '../model/run-events';
import type { DeploymentInfo } from '../pipeline';
import { Connected, fmtTime, useSignal } from './common';
import { Leaderboard, TrialStates } from './Leaderboard';
import { PipelineGraph } from './PipelineGraph';

function RunList({ model, runs }: { readonly model: StratumModel; readonly runs: readonly Run[] }) {
  const selected = model.runs.selectedId;
  if (runs.length === 0) {
    return <p className="jp-stratum-muted">No runs yet. Train a pipeline with %stratum train or stratum run.</p>;
  }
  return (
    <ul className="jp-stratum-run-list" role="listbox" aria-label="runs">
      {runs.map((r) => (
        <li
          key={r.id}
          role="option"
          aria-selected={r.id === selected}
          className={`jp-stratum-run-item${r.id === selected ? ' jp-mod-selected' : ''}`}
          data-run-id={r.id}
          onClick={() => void model.runs.select(r.id === selected ? undefined : r.id)}
        >
          <span className="jp-stratum-run-name">{r.name}</span>
          <span className="jp-stratum-run-id">{r.id.slice(0, 8)}</span>
          <span className={`jp-stratum-badge jp-stratum-state-${stateName(r.state)}`}>{stateName(r.state)}</span>
          <span className="jp-stratum-run-best">
            {r.best ? `${r.metric} ${fmtMetric(r.best.metrics[r.metric])}` : `${r.trials.length} trials`}
          </span>
        </li>
      ))}
    </ul>
  );
}

export function RunDetail(props: {
  readonly run: Run;
  readonly error?: string;
  readonly deployments?: DeploymentInfo;
}) {
  const { run, error } = props;
  const pct = Math.round(runFraction(run) * 100);
  return (
    <div className="jp-stratum-run-detail" data-run-id={run.id} data-state={stateName(run.state)}>
      <h3 className="jp-stratum-run-title">
        {run.name} <span className="jp-stratum-run-id">{run.id}</span>
      </h3>
      <p className="jp-stratum-run-state">
        <span className={`jp-stratum-badge jp-stratum-state-${stateName(run.state)}`}>{stateName(run.state)}</span>
        {run.stateReason ? ` ${run.stateReason}` : ''} · {run.task} · {run.goal} {run.metric} · started{' '}
        {fmtTime(run.startedAtMs || run.createdAtMs)}
      </p>
      {error ? <p className="jp-stratum-warning">Live updates interrupted: {error}; reconnecting.</p> : null}
      <div className="jp-stratum-progress" title={`${pct}%`}>
        <div className="jp-stratum-progress-fill" style={{ width: `${pct}%` }} />
      </div>
      <TrialStates run={run} />
      {run.best ? (
        <p className="jp-stratum-best-line">
          best: <b>{run.best.candidate}</b> {run.metric}={fmtMetric(run.best.metrics[run.metric])}
          {run.baseline[run.metric] !== undefined ? ` (baseline ${fmtMetric(run.baseline[run.metric])})` : ''} → model{' '}
          <code>
            {run.best.modelName}:{run.best.modelVersion}
          </code>
        </p>
      ) : null}
      <h4>Leaderboard</h4>
      <Leaderboard run={run} />
      <h4>Pipeline</h4>
      <PipelineGraph run={run} deployments={props.deployments} />
    </div>
  );
}

export function RunsView({ model }: { readonly model: StratumModel }) {
  useSignal(model.runs.list.changed);
  useSignal(model.runs.selectionChanged);
  useSignal(model.deployments.changed);
  const selected = model.runs.selected;
  // The selected run is followed live: its list entry shows the same state as its details.
  const runs = (model.runs.list.value ?? []).map((r) => (r.id === selected?.id ? selected : r));
  return (
    <Connected connection={model.runs.list.connection} baseUrl={model.api.baseUrl} onRetry={() => model.refreshAll()}>
      {() => (
        <div className="jp-stratum-runs">
          <RunList model={model} runs={runs} />
          {selected ? (
            <RunDetail run={selected} error={model.runs.watchError} deployments={model.deployments.value} />
          ) : model.runs.selectedId ? (
            <p className="jp-stratum-warning">
              Run {model.runs.selectedId}: {model.runs.watchError ?? 'loading…'}
            </p>
          ) : null}
        </div>
      )}
    </Connected>
  );
}
