/**
 * The Deployments section: each deployment with its endpoint URL, state, replicas (each with
 * its state and worker), load with sparklines over the last polls, recent events, and the
 * Scale and Undeploy actions. It follows the model's poll.
 */
import { Deployment_State, Replica_State, type Deployment, type DeploymentEvent } from '@stratum/proto';
import * as React from 'react';

import type { StratumModel } from '../model';
import { series, type LoadHistory } from '../model/deploy-history';
import { endpointUrl } from '../model/deployments';
import { Sparkline } from './Charts';
import { Connected, useSignal } from './common';

export interface IDeploymentActions {
  readonly scale: (name: string) => void;
  readonly undeploy: (name: string) => void;
  readonly copy: (text: string) => void;
}

export const DEPLOYMENT_STATE: Record<Deployment_State, string> = {
  [Deployment_State.UNSPECIFIED]: 'unknown',
  [Deployment_State.PENDING]: 'pending',
  [Deployment_State.READY]: 'ready',
  [Deployment_State.DEGRADED]: 'degraded',
  [Deployment_State.SCALED_TO_ZERO]: 'scaled to zero',
  [Deployment_State.DELETED]: 'deleted',
};

const REPLICA_STATE: Record<Replica_State, string> = {
  [Replica_State.UNSPECIFIED]: 'unknown',
  [Replica_State.LOADING]: 'loading',
  [Replica_State.READY]: 'ready',
  [Replica_State.UNAVAILABLE]: 'unavailable',
  [Replica_State.DRAINING]: 'draining',
};

/** How many events each deployment shows, newest first. */
const RECENT_EVENTS = 6;

function Endpoint({ url, copy }: { readonly url: string; readonly copy: (text: string) => void }) {
  const [copied, setCopied] = React.useState(false);
  if (!url) return <p className="jp-stratum-muted">No endpoint yet: the gateway has not started.</p>;
  return (
    <div className="jp-stratum-endpoint">
      <code className="jp-stratum-endpoint-url" title="POST /predict with rows, or /infer with tensors">
        {url}
      </code>
      <button
        className="jp-mod-styled jp-stratum-copy"
        title="Copy the endpoint URL"
        onClick={() => {
          copy(url);
          setCopied(true);
        }}
        onMouseLeave={() => setCopied(false)}
      >
        {copied ? 'Copied' : 'Copy'}
      </button>
    </div>
  );
}

function Replicas(props: { readonly d: Deployment; readonly workerName: (id: string) => string }) {
  const { d, workerName } = props;
  if (d.replicas.length === 0) return <p className="jp-stratum-muted">No replicas running.</p>;
  return (
    <ul className="jp-stratum-replicas">
      {d.replicas.map((r) => (
        <li key={r.id} className="jp-stratum-replica" data-state={REPLICA_STATE[r.state]} title={r.url}>
          <span className="jp-stratum-run-id">{r.id.slice(0, 8)}</span>{' '}
          <span className={`jp-stratum-badge jp-stratum-replica-${REPLICA_STATE[r.state]}`}>
            {REPLICA_STATE[r.state]}
          </span>{' '}
          on <span className="jp-stratum-replica-worker">{workerName(r.workerId)}</span>
          {r.reason ? <span className="jp-stratum-muted"> · {r.reason}</span> : null}
        </li>
      ))}
    </ul>
  );
}

function Events({ events }: { readonly events: readonly DeploymentEvent[] }) {
  const recent = [...events].sort((a, b) => Number(b.atMs - a.atMs)).slice(0, RECENT_EVENTS);
  if (recent.length === 0) return null;
  return (
    <ul className="jp-stratum-events" aria-label="recent events">
      {recent.map((e, i) => (
        <li key={`${e.atMs}-${i}`} className="jp-stratum-event" data-kind={e.kind}>
          <span className="jp-stratum-muted">{new Date(Number(e.atMs)).toLocaleTimeString()}</span>{' '}
          <span className="jp-stratum-event-kind">{e.kind}</span> {e.message}
        </li>
      ))}
    </ul>
  );
}

function DeploymentItem(props: {
  readonly d: Deployment;
  readonly history: LoadHistory;
  readonly workerName: (id: string) => string;
  readonly actions: IDeploymentActions;
}) {
  const { d, history, workerName, actions } = props;
  const ready = d.replicas.filter((r) => r.state === Replica_State.READY).length;
  const state = DEPLOYMENT_STATE[d.state];
  return (
    <li className="jp-stratum-model-item jp-stratum-deployment" data-deployment={d.name} data-state={state}>
      <div className="jp-stratum-item-head">
        <span className="jp-stratum-item-name">{d.name}</span>
        <span className={`jp-stratum-badge jp-stratum-deployment-${state.replace(/ /g, '-')}`}>{state}</span>
        <span className="jp-stratum-muted">
          {d.plan ? `${d.plan.modelName}:${d.plan.modelVersion} on ${d.plan.tier}` : ''}
        </span>
      </div>
      {d.stateReason ? <p className="jp-stratum-muted jp-stratum-state-reason">{d.stateReason}</p> : null}
      <Endpoint url={endpointUrl(d)} copy={actions.copy} />
      <div className="jp-stratum-load">
        <span className="jp-stratum-replica-count" data-ready={ready} data-desired={d.desiredReplicas}>
          replicas {ready}/{d.desiredReplicas} ready
          {d.plan ? (
            <span className="jp-stratum-muted"> ({`${d.plan.minReplicas}..${d.plan.maxReplicas}`})</span>
          ) : null}
        </span>
        <Sparkline label="req/s" values={series(history, d.name, 'rps')} current={d.requestsPerSecond} unit="" />
        <Sparkline label="p50" values={series(history, d.name, 'p50Ms')} current={d.p50Ms} unit="ms" />
        <Sparkline label="p99" values={series(history, d.name, 'p99Ms')} current={d.p99Ms} unit="ms" />
      </div>
      <Replicas d={d} workerName={workerName} />
      <Events events={d.events} />
      <div className="jp-stratum-actions">
        <button className="jp-mod-styled jp-stratum-scale" onClick={() => actions.scale(d.name)}>
          Scale…
        </button>
        <button className="jp-mod-styled jp-mod-warn jp-stratum-undeploy" onClick={() => actions.undeploy(d.name)}>
          Undeploy…
        </button>
      </div>
    </li>
  );
}

export function DeploymentsView(props: { readonly model: StratumModel; readonly actions: IDeploymentActions }) {
  const { model, actions } = props;
  useSignal(model.deployments.changed);
  useSignal(model.cluster.changed);
  const state = model.deployments.value;
  const workers = model.cluster.value?.workers ?? [];
  const workerName = (id: string): string => workers.find((w) => w.id === id)?.name ?? (id.slice(0, 8) || '-');
  return (
    <Connected connection={model.deployments.connection} baseUrl={model.api.baseUrl} onRetry={() => model.refreshAll()}>
      {() => (
        <div className="jp-stratum-deployments" data-available={String(!!state?.available)}>
          {!state?.available ? (
            <p className="jp-stratum-notice">
              This control plane does not offer deployments: it has no deployment engine, so there are no serving
              endpoints to list or manage here.
            </p>
          ) : state.deployments.length === 0 ? (
            <p className="jp-stratum-muted">No deployments. Deploy a model from the Models section.</p>
          ) : (
            <ul className="jp-stratum-model-list">
              {state.deployments.map((d) => (
                <DeploymentItem
                  key={d.name}
                  d={d}
                  history={model.deployments.history}
                  workerName={workerName}
                  actions={actions}
                />
              ))}
            </ul>
          )}
        </div>
      )}
    </Connected>
  );
}
