/**
 * The default provisioner: worker agents as local processes, started and stopped with the
 * control plane. Each is a real `stratum worker` that joins over gRPC like a remote one; the
 * join token travels in the environment, never on a command line others can read.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

import type { ResourceAmounts } from '../store/workers';
import type { Logger } from '../util/log';

export interface LocalWorkerSpec {
  readonly name: string;
  readonly tier: string;
  readonly resources: ResourceAmounts;
}

export interface LocalProvisionerOptions {
  readonly url: string;
  readonly joinToken: string;
  readonly home: string;
  readonly log: Logger;
  /** Restart a worker that exits unexpectedly (default true). */
  readonly restart?: boolean;
}

export class LocalProvisioner {
  private readonly children = new Map<string, ChildProcess>();
  private stopping = false;

  constructor(private readonly o: LocalProvisionerOptions) {}

  start(spec: LocalWorkerSpec): ChildProcess {
    const cli = join(__dirname, '..', 'cli', 'main.js');
    const args = [
      cli,
      'worker',
      '--join',
      this.o.url,
      '--tier',
      spec.tier,
      '--cpus',
      String(spec.resources.cpus),
      '--memory',
      `${spec.resources.memoryMb}Mi`,
      '--gpus',
      String(spec.resources.gpus),
      '--name',
      spec.name,
    ];
    const child = spawn(process.execPath, args, {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, STRATUM_JOIN_TOKEN: this.o.joinToken, STRATUM_HOME: this.o.home },
    });
    this.children.set(spec.name, child);
    child.once('exit', (code, signal) => {
      if (this.children.get(spec.name) === child) this.children.delete(spec.name);
      if (this.stopping) return;
      this.o.log.warn({ worker: spec.name, code, signal }, 'local worker exited');
      if (this.o.restart ?? true) setTimeout(() => !this.stopping && this.start(spec), 1000).unref();
    });
    return child;
  }

  pids(): Record<string, number | undefined> {
    return Object.fromEntries([...this.children].map(([n, c]) => [n, c.pid]));
  }

  async stopAll(): Promise<void> {
    this.stopping = true;
    await Promise.all(
      [...this.children.values()].map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null || c.signalCode !== null) return resolve();
            c.once('exit', () => resolve());
            c.kill('SIGTERM');
            setTimeout(() => c.kill('SIGKILL'), 5000).unref();
          }),
      ),
    );
    this.children.clear();
  }
}
