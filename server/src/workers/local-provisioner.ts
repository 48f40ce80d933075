/**
 * The default provisioner: worker agents as local processes, started and stopped with the
 * control plane. Each is a real `stratum worker` that joins over gRPC like a remote one; the
 * join token travels in the environment, never on a command line others can read.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

import type { TierLimits } from '../profiler/emulation';
import type { ResourceAmounts } from '../store/workers';
import type { Logger } from '../util/log';
import { GATEWAY_NODE_FLAGS, LONG_LIVED_NODE_FLAGS } from '../util/node-flags';

export interface LocalWorkerSpec {
  readonly name: string;
  readonly tier: string;
  readonly resources: ResourceAmounts;
  readonly labels?: Readonly<Record<string, string>>;
  /** An emulated tier worker: its replicas run under the tier's limits (`worker --emulate-tier`). */
  readonly limits?: TierLimits;
}

export interface LocalProvisionerOptions {
  readonly url: string;
  readonly joinToken: string;
  /** For the gateway, which reads routes and reports load with the API token. */
  readonly apiToken?: string;
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
      ...LONG_LIVED_NODE_FLAGS,
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
      ...(spec.labels && Object.keys(spec.labels).length > 0
        ? [
            '--label',
            Object.entries(spec.labels)
              .map(([k, v]) => `${k}=${v}`)
              .join(','),
          ]
        : []),
      ...(spec.limits ? ['--emulate-tier'] : []),
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

  /**
   * Starts the deployment gateway as its own process on a fixed port (so the endpoint URL
   * survives a gateway restart) and resolves with its URL once it listens.
   */
  startGateway(port: number, host = '127.0.0.1'): Promise<string> {
    const main = join(__dirname, '..', 'deploy', 'gateway', 'gateway-main.js');
    const args = [
      ...GATEWAY_NODE_FLAGS,
      main,
      '--control-plane',
      this.o.url,
      '--port',
      String(port),
      '--host',
      host,
      '--id',
      'local-gateway',
    ];
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, args, {
        stdio: ['ignore', 'pipe', 'inherit'],
        env: { ...process.env, STRATUM_TOKEN: this.o.apiToken ?? '', STRATUM_HOME: this.o.home },
      });
      this.children.set('gateway', child);
      let out = '';
      let settled = false;
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /ready on (\S+)/.exec(out);
        if (m && !settled) {
          settled = true;
          resolve(m[1]!);
        }
      });
      child.once('exit', (code, signal) => {
        if (this.children.get('gateway') === child) this.children.delete('gateway');
        if (!settled) {
          settled = true;
          reject(new Error(`gateway exited (${signal ?? `code ${code}`}) before it was ready`));
        }
        if (this.stopping) return;
        this.o.log.warn({ code, signal }, 'gateway exited; restarting');
        setTimeout(() => !this.stopping && this.startGateway(port, host).catch(() => undefined), 1000).unref();
      });
    });
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
