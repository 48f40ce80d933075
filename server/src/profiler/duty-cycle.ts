/**
 * A CPU share below one core, emulated by duty-cycling a process: SIGCONT, run for
 * duty × period, SIGSTOP for the rest of the period, repeat. The loop runs on its own thread
 * (a worker sleeping in Atomics.wait), so a busy event loop in the caller (a load generator)
 * does not stretch the windows. Stopping, or the caller's exit, leaves the process running.
 */
import { Worker } from 'node:worker_threads';

// Plain JavaScript for `new Worker(..., { eval: true })`: the same code under ts-jest and in dist/.
const LOOP = `
const { workerData } = require('node:worker_threads');
const { pid, duty, periodMs, flag } = workerData;
const state = new Int32Array(flag);
const stopped = () => Atomics.load(state, 0) !== 0;
const signal = (s) => { try { process.kill(pid, s); return true; } catch { return false; } };
const sleepUntil = (t) => {
  for (let left = t - performance.now(); left > 0 && !stopped(); left = t - performance.now())
    Atomics.wait(state, 0, 0, left);
};
let t = performance.now();
while (!stopped() && signal('SIGCONT')) {
  sleepUntil(t + duty * periodMs);
  if (stopped() || !signal('SIGSTOP')) break;
  t += periodMs;
  // Behind by more than a period (the machine was busy): start the schedule again from now.
  if (t < performance.now() - periodMs) t = performance.now();
  sleepUntil(t);
}
signal('SIGCONT');
`;

export class DutyCycle {
  private readonly flag = new Int32Array(new SharedArrayBuffer(4));
  private readonly worker: Worker;
  private readonly exited: Promise<void>;
  private readonly onExit = (): void => {
    try {
      process.kill(this.pid, 'SIGCONT');
    } catch {
      // Already gone.
    }
  };

  private constructor(
    readonly pid: number,
    readonly duty: number,
    readonly periodMs: number,
  ) {
    this.worker = new Worker(LOOP, {
      eval: true,
      workerData: { pid, duty, periodMs, flag: this.flag.buffer },
    });
    this.worker.unref();
    this.exited = new Promise((resolve) => this.worker.once('exit', () => resolve()));
    process.once('exit', this.onExit);
  }

  /** Starts duty-cycling `pid`; `duty` in (0, 1), the share of each `periodMs` it runs. */
  static start(pid: number, duty: number, periodMs: number): DutyCycle {
    if (!(duty > 0 && duty < 1)) throw new RangeError(`a duty cycle runs a share in (0, 1), got ${duty}`);
    if (!(periodMs >= 1)) throw new RangeError(`a duty cycle period must be ≥ 1 ms, got ${periodMs}`);
    return new DutyCycle(pid, duty, periodMs);
  }

  /** Ends the cycle; the process is left running (SIGCONT) when this resolves. */
  async stop(): Promise<void> {
    Atomics.store(this.flag, 0, 1);
    Atomics.notify(this.flag, 0);
    await this.exited;
    process.off('exit', this.onExit);
    this.onExit();
  }
}
