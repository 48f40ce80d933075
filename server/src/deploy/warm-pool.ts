/**
 * A pool of replica processes started ahead of need (warm-replica-main.ts), so a scale from
 * zero pays only the model's own load instead of Node's start, onnxruntime's binding and
 * environment. acquire() hands the next waiting process its replica-main arguments and refills
 * the pool behind it. Each process is reached only through WarmProcess, the one wrapper
 * around spawn, stdin and stdout.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

import type { Machine, TierLimits } from '../profiler/emulation';
import { spawnUnderLimits, type LimitedProcess } from '../profiler/tier-replica';
import { encodeLoad, READY_LINE, WAITING_LINE } from './warm-protocol';

export const WARM_REPLICA_MAIN = join(__dirname, 'warm-replica-main.js');
const WAITING = new RegExp(`^${WAITING_LINE}$`, 'm');

export interface WarmPoolOptions {
  /** Processes kept waiting. */
  readonly size: number;
  /** Default: warm-replica-main.js beside this file. */
  readonly script?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** After an acquire, how long the new replica has the CPU to itself before the pool refills. Default 1 s. */
  readonly refillDelayMs?: number;
  /** How long a process may take to print a line it owes (waiting, ready). Default 60 s. */
  readonly lineTimeoutMs?: number;
  /**
   * An emulated tier worker's limits: each process starts pinned to the tier's cores, and is
   * held to the tier's CPU share from its load on (a waiting process is idle; starting it
   * unthrottled refills the pool sooner, and a duty cycle on it would only cost the agent
   * wake-ups); its threads come with the load's arguments.
   */
  readonly limits?: TierLimits;
  readonly machine?: Machine;
}

export interface PooledReplica {
  readonly url: string;
  readonly pid: number;
  /** SIGTERM (the replica drains), then the exit code. */
  stop(): Promise<number | null>;
  /** Resolves with the exit code when the process ends, however it ends. */
  readonly exited: Promise<number | null>;
}

/** One child process and the lines it prints. */
class WarmProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  private out = '';
  private err = '';
  private readonly listeners = new Set<() => void>();

  private readonly limited: LimitedProcess | undefined;

  constructor(script: string, env: NodeJS.ProcessEnv, limits?: TierLimits, machine?: Machine) {
    const options = { env, stdio: ['pipe', 'pipe', 'pipe'] as 'pipe'[] };
    // Pinned from the start; held to the CPU share only from the load on (see limitCpu).
    this.limited = limits
      ? spawnUnderLimits(limits, process.execPath, [script], options, {
          ...(machine ? { machine } : {}),
          cpuLater: true,
        })
      : undefined;
    this.child = this.limited?.child ?? spawn(process.execPath, [script], options);
    this.child.stdout!.on('data', (d: Buffer) => {
      this.out += d.toString();
      this.notify();
    });
    this.child.stderr!.on('data', (d: Buffer) => (this.err += d.toString()));
    this.child.stdin!.on('error', () => undefined);
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
    void this.exited.then(() => this.limited?.release());
    void this.exited.then(() => this.notify());
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  private notify(): void {
    for (const l of [...this.listeners]) l();
  }

  /** The first match of `pattern` in stdout; rejects with stderr if the process exits first. */
  line(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
    return new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        this.listeners.delete(check);
      };
      const check = (): void => {
        const m = pattern.exec(this.out);
        if (m) {
          done();
          resolve(m);
        } else if (!this.alive) {
          done();
          reject(new Error(`the warm replica exited (${this.child.exitCode}): ${this.err.trim() || this.out.trim()}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`the warm replica did not print ${pattern} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.listeners.add(check);
      check();
    });
  }

  /** From the load on, the process gets only the tier's CPU share. */
  limitCpu(): void {
    this.limited?.limitCpu();
  }

  send(line: string): void {
    // write, not end: stdin stays open for the replica's life and its closing means "owner gone".
    this.child.stdin!.write(`${line}\n`);
  }

  async stop(): Promise<number | null> {
    // A duty-cycled process runs again before it is asked to drain.
    await this.limited?.release();
    if (this.alive) this.child.kill('SIGTERM');
    return this.exited;
  }
}

export class WarmPool {
  private readonly waiting: WarmProcess[] = [];
  private readonly starting = new Set<Promise<void>>();
  private closed = false;
  private lastError = '';

  constructor(private readonly o: WarmPoolOptions) {}

  private get timeoutMs(): number {
    return this.o.lineTimeoutMs ?? 60_000;
  }

  /** Processes waiting for a load now. */
  get ready(): number {
    return this.waiting.filter((p) => p.alive).length;
  }

  /** Fills the pool and waits until every process is waiting; rejects when one could not start. */
  async start(): Promise<void> {
    this.refill();
    await Promise.all([...this.starting]);
    if (this.ready < this.o.size)
      throw new Error(`the warm pool started ${this.ready} of ${this.o.size} processes: ${this.lastError}`);
  }

  private spawn(): WarmProcess {
    return new WarmProcess(
      this.o.script ?? WARM_REPLICA_MAIN,
      this.o.env ?? process.env,
      this.o.limits,
      this.o.machine,
    );
  }

  private refill(): void {
    while (!this.closed && this.waiting.length + this.starting.size < this.o.size) {
      const p = this.spawn();
      const started: Promise<void> = p.line(WAITING, this.timeoutMs).then(
        () => {
          this.starting.delete(started);
          if (this.closed) void p.stop();
          else this.waiting.push(p);
        },
        (e: unknown) => {
          this.starting.delete(started);
          this.lastError = e instanceof Error ? e.message : String(e);
          void p.stop();
        },
      );
      this.starting.add(started);
    }
  }

  /**
   * A replica with these replica-main arguments, from a waiting process when there is one (else
   * a fresh one, as slow as a cold start); the pool refills refillDelayMs after the replica is ready.
   */
  async acquire(args: readonly string[]): Promise<PooledReplica> {
    if (this.closed) throw new Error('the warm pool is closed');
    let p: WarmProcess | undefined;
    while ((p = this.waiting.shift()) && !p.alive);
    const fresh = !p;
    const owned = p ?? this.spawn();
    try {
      if (fresh) await owned.line(WAITING, this.timeoutMs);
      owned.limitCpu();
      owned.send(encodeLoad(args));
      const m = await owned.line(READY_LINE, this.timeoutMs);
      return { url: m[1]!, pid: owned.child.pid!, stop: () => owned.stop(), exited: owned.exited };
    } catch (e) {
      await owned.stop();
      throw e;
    } finally {
      // Refill a little after this replica is up: a process starting now would take CPU from its
      // load and from the buffered requests it is about to answer.
      setTimeout(() => this.refill(), this.o.refillDelayMs ?? 1000).unref();
    }
  }

  /** Stops the waiting processes (acquired replicas are their owners' to stop). */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.starting]);
    await Promise.all(this.waiting.splice(0).map((p) => p.stop()));
  }
}
