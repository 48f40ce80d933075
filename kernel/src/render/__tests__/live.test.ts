import { State } from '@stratum/proto';

import { Recorder } from '../../__tests__/recorder';
import { epochs, run, trial } from '../../__tests__/runs';
import { LiveRunView } from '../live';

describe('LiveRunView', () => {
  it('shows a display once, then updates it in place under the same display id', () => {
    const out = new Recorder();
    let now = 0;
    const view = new LiveRunView(out, { intervalMs: 100, now: () => now });
    view.update(run([trial(0, { state: State.RUNNING, progress: 0.1 })]));
    now = 150;
    view.update(run([trial(0, { state: State.RUNNING, progress: 0.6 })]));
    view.finish(run([trial(0, { state: State.SUCCEEDED, metrics: { accuracy: 1 } })], { state: State.SUCCEEDED }));
    expect(out.shown.map((s) => s.update)).toEqual([false, true, true]);
    expect(new Set(out.shown.map((s) => s.id)).size).toBe(1);
    expect(out.shown[2]!.bundle['text/plain']).toContain('100%  1/1 done');
  });

  it('draws at most one frame per interval; the last change still shows on finish', () => {
    const out = new Recorder();
    const view = new LiveRunView(out, { intervalMs: 1000, now: () => 0 });
    for (let i = 0; i < 5; i++) view.update(run([trial(0, { state: State.RUNNING, progress: i / 10 })]));
    expect(out.shown).toHaveLength(1);
    view.finish();
    expect(out.shown).toHaveLength(2);
    expect(out.shown[1]!.bundle['text/plain']).toContain('running 40%');
  });

  it('adds a learning-curve display when epochs arrive, and leaves unchanged displays alone', () => {
    const out = new Recorder();
    let now = 0;
    const view = new LiveRunView(out, { intervalMs: 10, now: () => (now += 100) });
    const t = trial(0, { state: State.SUCCEEDED });
    view.update(run([t]));
    view.update(run([{ ...t, history: epochs(2, (e) => ({ loss: 1 / e })) }]));
    view.update(run([{ ...t, history: epochs(2, (e) => ({ loss: 1 / e })) }]));
    const ids = out.shown.map((s) => s.id);
    expect(out.shown.map((s) => Object.keys(s.bundle).sort().join(','))).toEqual([
      'text/html,text/plain',
      'application/vnd.vegalite.v5+json,text/plain',
    ]);
    expect(ids[0]).not.toBe(ids[1]);
  });

  it('stops without drawing again', () => {
    const out = new Recorder();
    const view = new LiveRunView(out, { intervalMs: 1000, now: () => 0 });
    view.update(run([trial(0)]));
    view.update(run([trial(0, { state: State.RUNNING })]));
    view.stop();
    expect(out.shown).toHaveLength(1);
  });
});
