/**
 * The Models section: the registry; each model's lineage, signature and profile (latency
 * against throughput per tier, when the profiler measured it), and a Deploy button.
 */
import { fmtMetric } from '@stratum/server/dist/cli/render';
import type { Model } from '@stratum/proto';
import * as React from 'react';

import type { StratumModel } from '../model';
import { ProfileCharts } from './Charts';
import { Connected, fmtBytes, fmtTime, useSignal } from './common';
import { tensorText } from './PlanView';

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

function Signature({ m }: { readonly m: Model }) {
  const rows = [...m.inputs.map((t) => ['input', tensorText(t)]), ...m.outputs.map((t) => ['output', tensorText(t)])];
  return (
    <>
      <h5>Signature</h5>
      {rows.length === 0 ? (
        <p className="jp-stratum-muted">The model declares no inputs or outputs.</p>
      ) : (
        <table className="jp-stratum-table jp-stratum-signature">
          <tbody>
            {rows.map(([kind, text], i) => (
              <tr key={i} data-kind={kind}>
                <th>{kind}</th>
                <td>{text}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {m.recordFields.length ? <p className="jp-stratum-muted">records carry: {m.recordFields.join(', ')}</p> : null}
      {m.classes.length ? <p className="jp-stratum-muted">classes: {m.classes.join(', ')}</p> : null}
    </>
  );
}

/** The model version's latest profile, asked for when its details open. */
function Profile({ model, refKey }: { readonly model: StratumModel; readonly refKey: string }) {
  useSignal(model.profiles.changed);
  React.useEffect(() => void model.profiles.load(refKey), [model, refKey]);
  const state = model.profiles.state(refKey) ?? { kind: 'loading' };
  return (
    <div className="jp-stratum-model-profile" data-profile-state={state.kind}>
      <h5>Profile</h5>
      {state.kind === 'ready' ? (
        <ProfileCharts profile={state.profile} />
      ) : state.kind === 'none' ? (
        <p className="jp-stratum-notice">{state.reason}</p>
      ) : state.kind === 'error' ? (
        <p className="jp-stratum-warning">Profile not loaded: {state.message}</p>
      ) : (
        <p className="jp-stratum-muted">Loading the profile…</p>
      )}
    </div>
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
                  {open === key ? (
                    <div className="jp-stratum-model-detail">
                      <Lineage m={m} actions={actions} />
                      <Signature m={m} />
                      <Profile model={model} refKey={key} />
                    </div>
                  ) : null}
                </li>
              );
            })}
          </ul>
        )
      }
    </Connected>
  );
}
