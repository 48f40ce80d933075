/** Small pieces every section uses: a signal hook, the "not reachable" message, formatting. */
import type { ISignal } from '@lumino/signaling';
import * as React from 'react';

import type { Connection } from '../tokens';

/** Re-renders the component whenever `signal` fires. */
export function useSignal<T>(signal: ISignal<T, unknown>): void {
  const [, bump] = React.useReducer((n: number) => n + 1, 0);
  React.useEffect(() => {
    const slot = (): void => bump();
    signal.connect(slot);
    return () => {
      signal.disconnect(slot);
    };
  }, [signal]);
}

export function DownMessage(props: {
  readonly baseUrl: string;
  readonly message: string;
  readonly onRetry: () => void;
}) {
  const [busy, setBusy] = React.useState(false);
  return (
    <div className="jp-stratum-down" role="alert">
      <p className="jp-stratum-down-title">The Stratum control plane is not reachable.</p>
      <p className="jp-stratum-down-detail">
        {props.baseUrl}: {props.message}
      </p>
      <button
        className="jp-mod-styled jp-mod-accept jp-stratum-retry"
        disabled={busy}
        onClick={() => {
          setBusy(true);
          Promise.resolve(props.onRetry()).finally(() => setBusy(false));
        }}
      >
        Retry
      </button>
    </div>
  );
}

/** Renders the children when the connection is ready, else the loading or down message. */
export function Connected(props: {
  readonly connection: Connection;
  readonly baseUrl: string;
  readonly onRetry: () => void;
  readonly children: () => React.ReactNode;
}) {
  const c = props.connection;
  if (c.kind === 'loading') return <p className="jp-stratum-muted">Connecting to the control plane…</p>;
  if (c.kind === 'down') return <DownMessage baseUrl={props.baseUrl} message={c.message} onRetry={props.onRetry} />;
  return <>{props.children()}</>;
}

export function Meter(props: {
  readonly used: number;
  readonly total: number;
  readonly label: string;
  readonly unit: string;
}) {
  const frac = props.total > 0 ? Math.min(1, props.used / props.total) : 0;
  return (
    <span className="jp-stratum-meter" title={props.label}>
      <span className="jp-stratum-meter-bar">
        <span className="jp-stratum-meter-fill" style={{ width: `${Math.round(frac * 100)}%` }} />
      </span>
      <span className="jp-stratum-meter-text">
        {fmtAmount(props.used)}/{fmtAmount(props.total)} {props.unit}
      </span>
    </span>
  );
}

export function fmtAmount(n: number | bigint): string {
  const v = Number(n);
  return Number.isInteger(v) ? String(v) : v.toFixed(1);
}

export function fmtBytes(n: number | bigint): string {
  const v = Number(n);
  if (v < 1024) return `${v} B`;
  if (v < 1 << 20) return `${(v / 1024).toFixed(1)} KiB`;
  return `${(v / (1 << 20)).toFixed(1)} MiB`;
}

export function fmtTime(ms: bigint): string {
  const v = Number(ms);
  return v ? new Date(v).toLocaleString() : '-';
}
