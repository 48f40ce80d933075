/** The Cluster section: tiers and workers with cpus, gpus and memory used/total. */
import { Worker_Status, type GetClusterResponse, type Resources, type Worker } from '@stratum/proto';
import * as React from 'react';

import type { StratumModel } from '../model';
import { Connected, Meter, useSignal } from './common';

const STATUS: Record<Worker_Status, string> = {
  [Worker_Status.UNSPECIFIED]: 'unknown',
  [Worker_Status.READY]: 'joined',
  [Worker_Status.LOST]: 'lost',
  [Worker_Status.LEFT]: 'left',
};

function Meters({ used, total }: { readonly used?: Resources; readonly total?: Resources }) {
  return (
    <div className="jp-stratum-meters">
      <Meter used={used?.cpus ?? 0} total={total?.cpus ?? 0} label="cpus used/total" unit="cpu" />
      <Meter
        used={Number(used?.memoryMb ?? 0)}
        total={Number(total?.memoryMb ?? 0)}
        label="memory MiB used/total"
        unit="MiB"
      />
      <Meter used={used?.gpus ?? 0} total={total?.gpus ?? 0} label="gpus used/total" unit="gpu" />
    </div>
  );
}

function WorkerItem({ w }: { readonly w: Worker }) {
  return (
    <li className={`jp-stratum-worker jp-stratum-status-${STATUS[w.status]}`} title={w.id}>
      <div className="jp-stratum-item-head">
        <span className="jp-stratum-item-name">{w.name}</span>
        <span className="jp-stratum-badge">{STATUS[w.status]}</span>
        <span className="jp-stratum-muted">{w.tier}</span>
        <span className="jp-stratum-muted jp-stratum-item-end">
          {w.runningTrialIds.length} {w.runningTrialIds.length === 1 ? 'trial' : 'trials'}
        </span>
      </div>
      <Meters used={w.used} total={w.total} />
    </li>
  );
}

export function ClusterTables({ cluster }: { readonly cluster: GetClusterResponse }) {
  const joined = cluster.workers.filter((w) => w.status === Worker_Status.READY).length;
  return (
    <div className="jp-stratum-cluster">
      <p className="jp-stratum-summary">
        {joined} {joined === 1 ? 'worker' : 'workers'} joined
        {cluster.workers.length > joined ? `, ${cluster.workers.length - joined} lost or left` : ''} · control plane{' '}
        {cluster.version}
      </p>
      <h4>Tiers</h4>
      <ul className="jp-stratum-tiers">
        {cluster.tiers.map((t) => (
          <li key={t.name} className="jp-stratum-tier">
            <div className="jp-stratum-item-head">
              <span className="jp-stratum-item-name">{t.name}</span>
              <span className="jp-stratum-muted">
                {t.workersReady} {t.workersReady === 1 ? 'worker' : 'workers'}
              </span>
            </div>
            <Meters used={t.used} total={t.total} />
          </li>
        ))}
      </ul>
      <h4>Workers</h4>
      <ul className="jp-stratum-workers">
        {cluster.workers.map((w) => (
          <WorkerItem key={w.id} w={w} />
        ))}
      </ul>
    </div>
  );
}

export function ClusterView({ model }: { readonly model: StratumModel }) {
  useSignal(model.cluster.changed);
  const cluster = model.cluster.value;
  return (
    <Connected connection={model.cluster.connection} baseUrl={model.api.baseUrl} onRetry={() => model.refreshAll()}>
      {() => (cluster ? <ClusterTables cluster={cluster} /> : null)}
    </Connected>
  );
}
