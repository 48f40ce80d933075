import { State } from '@stratum/proto';

import { epochs, run, trial } from '../../__tests__/runs';
import { curvesBundle, runBundle, VEGA_LITE } from '../bundles';
import { esc, leaderboardHtml } from '../html';

const finished = run(
  [
    trial(0, { state: State.SUCCEEDED, metrics: { accuracy: 0.91 }, startedAtMs: 1000n, finishedAtMs: 3500n }),
    trial(1, {
      state: State.SUCCEEDED,
      metrics: { accuracy: 0.97 },
      candidate: 'mlp<b>',
      startedAtMs: 1000n,
      finishedAtMs: 2000n,
    }),
    trial(2, { state: State.FAILED, stateReason: 'out of memory' }),
  ],
  {
    state: State.SUCCEEDED,
    best: {
      $typeName: 'stratum.v1.BestModel',
      trialId: 't1-0000000000',
      modelName: 'penguins',
      modelVersion: 2,
      candidate: 'mlp<b>',
      metrics: { accuracy: 0.97 },
      paramsJson: '{}',
    },
  },
);

describe('runBundle', () => {
  it("carries the CLI's progress bar, leaderboard and summary as text/plain", () => {
    const text = runBundle(finished)['text/plain'];
    expect(text.split('\n')[0]).toBe('[██████████████████████████████] 100%  3/3 done, 0 running');
    expect(text).toMatch(/^1 +#1 +mlp<b> +maxDepth=3 +succeeded +0\.9700 +1\.0s +★ best$/m);
    expect(text).toMatch(/^- +#2 +tree .* failed .* out of memory$/m);
    expect(text).toContain(
      'best: mlp<b> (trial t1-00000) accuracy=0.9700  baseline accuracy=0.4400  → model penguins:2',
    );
  });

  it('renders the same ranking as an HTML table, escaped, the best row in bold', () => {
    const html = runBundle(finished)['text/html'] as string;
    expect(html).toContain('<div style="width:100%;height:100%;background:#2e7d32">');
    const rows = html.split('<tr').slice(2);
    expect(rows[0]).toMatch(/^ style="font-weight:bold">.*mlp&#60;b&#62;.*★ best/);
    expect(rows[1]).toContain('>0.9100<');
    expect(html).toContain(
      'best: <b>mlp&#60;b&#62;</b> accuracy=0.9700 (baseline 0.4400) → model <code>penguins:2</code>',
    );
  });

  it('shows a running trial with its progress and no summary yet', () => {
    const live = run([trial(0, { state: State.RUNNING, progress: 0.5 }), trial(1)]);
    expect(leaderboardHtml(live)).toContain('25% · 0/2 done, 1 running · running');
    expect(runBundle(live)['text/plain']).not.toContain('best:');
  });
});

describe('curvesBundle', () => {
  it('is absent without epoch history', () => {
    expect(curvesBundle(finished)).toBeUndefined();
  });

  it('draws a Vega-Lite line per trial and a panel per metric from trial histories', () => {
    const r = run([
      trial(0, { candidate: 'mlp', history: epochs(3, (e) => ({ loss: 1 / e, val_loss: Number.NaN })) }),
      trial(1, { candidate: 'mlp', history: epochs(2, (e) => ({ loss: 2 / e, accuracy: e / 4 })) }),
    ]);
    const b = curvesBundle(r)!;
    expect(b['text/plain']).toBe('learning curves: 2 trial(s) over epochs; accuracy, loss');
    const spec = b[VEGA_LITE] as { data: { values: unknown[] }; facet: unknown; spec: { mark: { type: string } } };
    expect(spec.data.values).toHaveLength(3 + 4);
    expect(spec.data.values[0]).toEqual({ trial: '#0 mlp', epoch: 1, metric: 'loss', value: 1 });
    expect(spec.facet).toEqual({
      column: { field: 'metric', type: 'nominal', title: null, sort: ['accuracy', 'loss'] },
    });
    expect(spec.spec.mark.type).toBe('line');
    expect(JSON.parse(JSON.stringify(b))).toEqual(b);
  });
});

describe('esc', () => {
  it('escapes markup', () => {
    expect(esc(`<a href="x">'&'</a>`)).toBe('&#60;a href=&#34;x&#34;&#62;&#39;&#38;&#39;&#60;/a&#62;');
  });
});
