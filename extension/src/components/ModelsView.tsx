/** The Models section: the registry with each model's lineage, and a Deploy button. */
import { fmtMetric } from '@stratum/server/dist/cli/render';
import { Deployment_State, Replica_State, type Deployment, type Model } from '@stratum/proto';
import * as React from 'react';

import type { StratumModel } from '../model';
import { Connected, fmtBytes, fmtTime, useSignal } from './common';

export interface IModelActions {
  readonly openRun: (runId: string) => void;
  readonly deploy: (model: Model) => void;
}

function Lineage({ m, actions }: { readonly m: Model; readonly actions: IModelActions }) {
  const l = m.lineage;
  const rows: [string, React.ReactNode][] = [
    ['source', m.source || '-'],
    ['format', `${m.format}${m.opset ? ` (opset ${m.opset})` : ''}, ${fmtBytes(m.sizeBytes)}`],
    ['created', fmtTime(m.createdAtMs)],
    ['task', m.task || '-'],
    [
      'metrics',
      Object.entries(m.metrics)
        .map(([k, v]) => `${k}=${fmtMetric(v)}`)
        .join(' ') || '-',
    ],
    ['inputs', m.recordFields.length ? m.recordFields.join(', ') : m.inputs.map((t) => t.name).join(', ') || '-'],
  ];
  if (l?.runId) {
    rows.push(
      [
        'run',
        <a href="#" className="jp-stratum-link" onClick={(e) => (e.preventDefault(), actions.openRun(l.runId))}>
          {l.runId.slice(0, 8)}
        </a>,
      ],
      ['trial', `${l.trialId.slice(0, 8)} (${l.candidate})`],
      ['trainer', `${l.trainer}${l.backend ? ` on ${l.backend}` : ''}`],
      ['params', l.paramsJson],
      ['spec hash', l.specHash.slice(0, 19)],
      ['data hash', l.dataHash.slice(0, 19)],
      [
        'versions',
        Object.entries(l.versions)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ') || '-',
      ],
    );
  } else if (m.producer) {
    rows.push(['producer', m.producer]);
  }
  return (
    <table className="jp-stratum-table jp-stratum-lineage">
      <tbody>
        {rows.map(([k, v]) => (
          <tr key={k}>
            <th>{k}</th>
            <td>{v}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function ModelsView({ model, actions }: { readonly model: StratumModel; readonly actions: IModelActions }) {
  useSignal(model.models.changed);
  const [open, setOpen] = React.useState<string | undefined>(undefined);
  const models = model.models.value ?? [];
  return (
    <Connected connection={model.models.connection} baseUrl={model.api.baseUrl} onRetry={() => model.refreshAll()}>
      {() =>
        models.length === 0 ? (
          <p className="jp-stratum-muted">No models yet: a run that succeeds registers its best model here.</p>
        ) : (
          <ul className="jp-stratum-model-list">
            {models.map((m) => {
              const key = `${m.name}:${m.version}`;
              return (
                <li key={key} className="jp-stratum-model-item" data-model={key}>
                  <div className="jp-stratum-model-head">
                    <button
                      className="jp-stratum-model-name"
                      aria-expanded={open === key}
                      onClick={() => setOpen(open === key ? undefined : key)}
                    >
                      {key}
                    </button>
                    <span className="jp-stratum-muted">{m.lineage?.trainer || m.source}</span>
                    <button className="jp-mod-styled jp-stratum-deploy" onClick={() => actions.deploy(m)}>
                      Deploy…
                    </button>
                  </div>
                  {open === key ? <Lineage m={m} actions={actions} /> : null}
                </li>
              );
            })}
          </ul>
        )
      }
    </Connected>
  );
}

const DEPLOYMENT_STATE: Record<Deployment_State, string> = {
  [Deployment_State.UNSPECIFIED]: 'unknown',
  [Deployment_State.PENDING]: 'pending',
  [Deployment_State.READY]: 'ready',
  [Deployment_State.DEGRADED]: 'degraded',
  [Deployment_State.SCALED_TO_ZERO]: 'scaled to zero',
  [Deployment_State.DELETED]: 'deleted',
};

function DeploymentList({ deployments }: { readonly deployments: readonly Deployment[] }) {
  if (deployments.length === 0) return <p className="jp-stratum-muted">No deployments.</p>;
  return (
    <ul className="jp-stratum-model-list">
      {deployments.map((d) => (
        <li key={d.name} className="jp-stratum-model-item" title={d.stateReason}>
          <div className="jp-stratum-item-head">
            <span className="jp-stratum-item-name">{d.name}</span>
            <span className="jp-stratum-badge">{DEPLOYMENT_STATE[d.state]}</span>
            <span className="jp-stratum-muted">
              {d.plan ? `${d.plan.modelName}:${d.plan.modelVersion} on ${d.plan.tier}` : ''}
            </span>
          </div>
          <div className="jp-stratum-meters">
            <span>
              replicas {d.replicas.filter((r) => r.state === Replica_State.READY).length}/{d.desiredReplicas}
            </span>
            {d.endpoint ? <code>{d.endpoint}</code> : null}
          </div>
        </li>
      ))}
    </ul>
  );
}

export function DeploymentsView({ model }: { readonly model: StratumModel }) {
  useSignal(model.deployments.changed);
  const state = model.deployments.value;
  return (
    <Connected connection={model.deployments.connection} baseUrl={model.api.baseUrl} onRetry={() => model.refreshAll()}>
      {() => (
        <div className="jp-stratum-deployments" data-available={String(!!state?.available)}>
          {state?.available ? (
            <DeploymentList deployments={state.deployments} />
          ) : (
            <p className="jp-stratum-notice">
              This control plane does not offer deployments yet: it has no deployment engine, so there are no serving
              endpoints to list or manage here.
            </p>
          )}
        </div>
      )}
    </Connected>
  );
}
