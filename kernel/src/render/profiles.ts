/** A profile as notebook output: the per-tier tables, the recommendation, and Vega-Lite charts. */
import { latencyBatchChart, latencyThroughputChart } from '@stratum/server/dist/profiler/charts';
import { eventLine, profileText, progressBar, reportText } from '@stratum/server/dist/profiler/text';
import type { ProfileEvent } from '@stratum/server/dist/profiler/types';

import type { ProfileResult } from '../api/profiles';
import type { MimeBundle } from '../types';
import { VEGA_LITE } from './bundles';
import { esc } from './html';

export function profileProgressBundle(e: ProfileEvent): MimeBundle | undefined {
  const text = e.kind === 'point' ? progressBar(e.done, e.total, e.tier) : eventLine(e);
  return text ? { 'text/plain': text, 'text/html': `<pre>${esc(text)}</pre>` } : undefined;
}

export function profileBundles(r: ProfileResult): MimeBundle[] {
  const text = [
    profileText(r.profile),
    '',
    r.report ? reportText(r.report) : 'give --qos p99=20ms,rps=200 for a recommendation',
  ].join('\n');
  return [
    { 'text/plain': text, 'text/html': `<pre>${esc(text)}</pre>` },
    { [VEGA_LITE]: latencyThroughputChart(r.profile), 'text/plain': 'latency against throughput, per tier' },
    { [VEGA_LITE]: latencyBatchChart(r.profile), 'text/plain': 'latency against batch size, per tier' },
  ];
}
