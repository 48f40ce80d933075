/**
 * A run shown live in a cell: one display (progress bar + leaderboard) and, once trials report
 * epochs, a second one (learning curves), each first sent as `display_data` with a display id
 * and then replaced in place with `update_display_data`. Frames are drawn at most every
 * `intervalMs`; the final frame is always drawn.
 */
import type { Run } from '@stratum/proto';
import { randomBytes } from 'node:crypto';

import type { CellOutput, MimeBundle } from '../types';
import { curvesBundle, runBundle } from './bundles';

export interface LiveViewOptions {
  readonly intervalMs?: number;
  readonly now?: () => number;
}

/** One display id: shown once, then updated, and only when what it shows changed. */
export class LiveDisplay {
  private last?: string;
  readonly id = randomBytes(8).toString('hex');

  constructor(private readonly out: CellOutput) {}

  draw(bundle: MimeBundle): void {
    const json = JSON.stringify(bundle);
    if (json === this.last) return;
    this.out.display(bundle, { id: this.id, update: this.last !== undefined });
    this.last = json;
  }
}

export class LiveRunView {
  private readonly board: LiveDisplay;
  private readonly curves: LiveDisplay;
  private readonly intervalMs: number;
  private readonly now: () => number;
  private lastDraw = Number.NEGATIVE_INFINITY;
  private timer?: NodeJS.Timeout;
  private latest?: Run;

  constructor(out: CellOutput, o: LiveViewOptions = {}) {
    this.board = new LiveDisplay(out);
    this.curves = new LiveDisplay(out);
    this.intervalMs = o.intervalMs ?? 250;
    this.now = o.now ?? Date.now;
  }

  /** The run changed: draw now, or soon if a frame was just drawn. */
  update(run: Run): void {
    this.latest = run;
    const wait = this.lastDraw + this.intervalMs - this.now();
    if (wait <= 0) this.draw();
    else this.timer ??= setTimeout(() => this.draw(), wait);
  }

  /** Draws the last frame and stops. */
  finish(run?: Run): void {
    if (run) this.latest = run;
    this.draw();
  }

  /** Stops without drawing again (the watch was interrupted). */
  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private draw(): void {
    this.stop();
    const run = this.latest;
    if (!run) return;
    this.lastDraw = this.now();
    this.board.draw(runBundle(run));
    const curves = curvesBundle(run);
    if (curves) this.curves.draw(curves);
  }
}
