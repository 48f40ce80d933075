/** The Cluster section: tiers and workers with cpus, gpus and memory used/total. */
import { Worker_Status, type GetClusterResponse, type Worker } from '@stratum/proto';
import * as React from 'react';

import type { StratumModel } from '../model';
import { Connected, Meter, useSignal } from './common';

const STATUS: Record<Worker_Status, string> = {
  [Worker_Status.UNSPECIFIED]: 'unknown',
  [Worker_Status.READY]: 'joined',
  [Worker_Status.LOST]: 'lost',
  [Worker_Status.LEFT]: 'left',
};

function WorkerRow({ w }: { readonly w: Worker }) {
  return (
    <tr className={`jp-stratum-worker jp-stratum-status-${STATUS[w.status]}`}>
      <td title={w.id}>{w.name}</td>
      <td>{w.tier}</td>
      <td>
        <span className="jp-stratum-badge">{STATUS[w.status]}</span>
      </td>
      <td>
        <Meter used={w.used?.cpus ?? 0} total={w.total?.cpus ?? 0} label="cpus used/total" />
      </td>
      <td>
        <Meter
          used={Number(w.used?.memoryMb ?? 0)}
          total={Number(w.total?.memoryMb ?? 0)}
          label="memory MiB used/total"
        />
      </td>
      <td>
        <Meter used={w.used?.gpus ?? 0} total={w.total?.gpus ?? 0} label="gpus used/total" />
      </td>
      <td>{w.runningTrialIds.length}</td>
    </tr>
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
      <table className="jp-stratum-table jp-stratum-tiers">
        <thead>
          <tr>
            <th>tier</th>
            <th>workers</th>
            <th>cpus</th>
            <th>memory MiB</th>
            <th>gpus</th>
          </tr>
        </thead>
        <tbody>
          {cluster.tiers.map((t) => (
            <tr key={t.name}>
              <td>{t.name}</td>
              <td>{t.workersReady}</td>
              <td>
                <Meter used={t.used?.cpus ?? 0} total={t.total?.cpus ?? 0} label="cpus used/total" />
              </td>
              <td>
                <Meter used={Number(t.used?.memoryMb ?? 0)} total={Number(t.total?.memoryMb ?? 0)} label="memory MiB" />
              </td>
              <td>
                <Meter used={t.used?.gpus ?? 0} total={t.total?.gpus ?? 0} label="gpus used/total" />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <table className="jp-stratum-table jp-stratum-workers">
        <thead>
          <tr>
            <th>worker</th>
            <th>tier</th>
            <th>status</th>
            <th>cpus</th>
            <th>memory MiB</th>
            <th>gpus</th>
            <th>trials</th>
          </tr>
        </thead>
        <tbody>
          {cluster.workers.map((w) => (
            <WorkerRow key={w.id} w={w} />
          ))}
        </tbody>
      </table>
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
