/**
 * Counts consecutive failed calls to the control plane across every view, so the extension
 * raises one error dialog after several failures instead of one per call.
 */
import { Signal, type ISignal } from '@lumino/signaling';

export class Health {
  constructor(readonly threshold = 5) {}

  /** Emitted once when the failures reach the threshold; again only after a success. */
  get unreachable(): ISignal<this, string> {
    return this._unreachable;
  }

  get failures(): number {
    return this._failures;
  }

  succeeded(): void {
    this._failures = 0;
    this._reported = false;
  }

  failed(message: string): void {
    this._failures++;
    if (this._failures >= this.threshold && !this._reported) {
      this._reported = true;
      this._unreachable.emit(message);
    }
  }

  private _failures = 0;
  private _reported = false;
  private readonly _unreachable = new Signal<this, string>(this);
}
