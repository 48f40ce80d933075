/**
 * A deployment plan as the control plane made it: every check with ✓ or ✗ and what it
 * measured, replicas, resources and batching, and the rendered infrastructure-as-code.
 */
import type { DeploymentPlan, TensorSpec } from '@stratum/proto';
import * as React from 'react';

import { fmtAmount } from './common';

export function tensorText(t: TensorSpec): string {
  return `${t.name}: ${t.datatype} [${t.shape.map((d) => (Number(d) < 0 ? '?' : String(d))).join(', ')}]`;
}

function qosText(plan: DeploymentPlan): string {
  const q = plan.qos;
  const parts = [
    q?.p50Ms ? `p50 ≤ ${q.p50Ms} ms` : '',
    q?.p95Ms ? `p95 ≤ ${q.p95Ms} ms` : '',
    q?.p99Ms ? `p99 ≤ ${q.p99Ms} ms` : '',
    q?.rps ? `${q.rps} req/s` : '',
  ].filter(Boolean);
  return parts.join(', ') || 'none asked';
}

export function PlanChecks({ plan }: { readonly plan: DeploymentPlan }) {
  return (
    <ul className="jp-stratum-checks" aria-label="plan checks">
      {plan.checks.map((c) => (
        <li
          key={c.name}
          className={`jp-stratum-check jp-stratum-check-${c.ok ? 'ok' : 'failed'}`}
          data-check={c.name}
          data-ok={String(c.ok)}
        >
          <span className="jp-stratum-check-mark" aria-label={c.ok ? 'passes' : 'fails'}>
            {c.ok ? '✓' : '✗'}
          </span>{' '}
          <b>{c.name}</b>: {c.message}
        </li>
      ))}
    </ul>
  );
}

export function PlanView({ plan, stale }: { readonly plan: DeploymentPlan; readonly stale?: boolean }) {
  const r = plan.resources;
  const rows: [string, string][] = [
    ['model', `${plan.modelName}:${plan.modelVersion}`],
    ['tier', plan.tier + (plan.fallbackTiers.length ? ` (fallback ${plan.fallbackTiers.join(', ')})` : '')],
    ['replicas', `${plan.minReplicas} to ${plan.maxReplicas}, starting with ${plan.initialReplicas}`],
    [
      'per replica',
      `${fmtAmount(r?.cpus ?? 0)} cpu, ${fmtAmount(r?.memoryMb ?? 0n)} MiB${r?.gpus ? `, ${r.gpus} GPU` : ''}`,
    ],
    ['batching', `up to ${plan.maxBatchSize} rows, waiting at most ${plan.maxQueueDelayMs} ms`],
    ['autoscaling', `aims at ${plan.targetConcurrency} requests in flight per replica`],
    ['QoS', qosText(plan)],
    ['inputs', plan.inputs.map(tensorText).join('; ') || '-'],
    ['outputs', plan.outputs.map(tensorText).join('; ') || '-'],
  ];
  return (
    <div
      className={`jp-stratum-plan${stale ? ' jp-mod-stale' : ''}`}
      data-feasible={String(plan.feasible)}
      aria-busy={stale ? 'true' : undefined}
    >
      <p className={plan.feasible ? 'jp-stratum-plan-verdict' : 'jp-stratum-plan-verdict jp-stratum-warning'}>
        {plan.feasible
          ? `Feasible: "${plan.name}" can start on ${plan.tier}.`
          : `Not feasible: nothing will start until every check passes.`}
      </p>
      <PlanChecks plan={plan} />
      <table className="jp-stratum-table jp-stratum-plan-table">
        <tbody>
          {rows.map(([k, v]) => (
            <tr key={k}>
              <th>{k}</th>
              <td>{v}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <details className="jp-stratum-iac">
        <summary>Infrastructure as code ({Object.keys(plan.iac).sort().join(', ') || 'none'})</summary>
        {Object.entries(plan.iac)
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([file, text]) => (
            <details key={file} className="jp-stratum-iac-file" data-file={file}>
              <summary>{file}</summary>
              <pre>{text}</pre>
            </details>
          ))}
      </details>
    </div>
  );
}
