/* eslint-disable @typescript-eslint/no-namespace -- JupyterLab convention: `namespace X { interface IOptions }` */
/**
 * A value fetched from the control plane on a `Poll`: backoff while it fails, standby while
 * nobody looks (section hidden or browser tab hidden). No DOM; views follow `changed`.
 */
import { Poll, type IPoll } from '@lumino/polling';
import { Signal, type ISignal } from '@lumino/signaling';

import { describeError } from '../api';
import type { Connection } from '../tokens';
import type { Health } from './health';

export class Polled<T> {
  constructor(options: Polled.IOptions<T>) {
    this._load = options.load;
    this._health = options.health;
    this._isActive = options.isActive;
    this._poll = new Poll({
      auto: true,
      factory: () => this._tick(),
      frequency: Polled.frequency(options.intervalSeconds),
      name: options.name,
      standby: () => (this._isActive() ? 'when-hidden' : true),
    });
  }

  /** Emitted whenever the value or the connection changes. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  get value(): T | undefined {
    return this._value;
  }

  get connection(): Connection {
    return this._connection;
  }

  get isDisposed(): boolean {
    return this._poll.isDisposed;
  }

  /** Fetches now (e.g. after a mutation or a Retry), then keeps the usual rhythm. */
  async refresh(): Promise<void> {
    await this._poll.refresh();
    await this._poll.tick.catch(() => undefined);
  }

  setInterval(seconds: number): void {
    this._poll.frequency = Polled.frequency(seconds);
  }

  dispose(): void {
    // Poll.dispose() leaves its next tick's timer set; stopping first clears it.
    void this._poll.stop();
    this._poll.dispose();
    Signal.clearData(this);
  }

  private async _tick(): Promise<void> {
    try {
      this._value = await this._load();
      this._connection = { kind: 'ready' };
      this._health?.succeeded();
      this._changed.emit();
    } catch (err) {
      this._connection = { kind: 'down', message: describeError(err) };
      this._health?.failed(this._connection.message);
      this._changed.emit();
      // Rethrown so that the poll backs off.
      throw err;
    }
  }

  private readonly _load: () => Promise<T>;
  private readonly _health: Health | undefined;
  private readonly _isActive: () => boolean;
  private readonly _poll: Poll;
  private readonly _changed = new Signal<this, void>(this);
  private _value: T | undefined;
  private _connection: Connection = { kind: 'loading' };
}

export namespace Polled {
  export interface IOptions<T> {
    readonly name: string;
    readonly load: () => Promise<T>;
    readonly intervalSeconds: number;
    /** Where failures count towards the one "unreachable" dialog; one poll reports, not all. */
    readonly health?: Health;
    /** Whether anyone is looking; while false the poll stands by. */
    readonly isActive: () => boolean;
  }

  export function frequency(seconds: number): IPoll.Frequency {
    const interval = Math.max(1, seconds) * 1000;
    return { interval, backoff: true, max: Math.max(interval, 60_000) };
  }
}
