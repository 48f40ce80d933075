/**
 * A whole Stratum on this machine for the benchmarks that need one: `stratum serve` in a
 * temporary $STRATUM_HOME (control plane, local workers, gateway, each its own process), the
 * CLI for what a user would type (run, deploy), the typed client for polling, and the process
 * ids of every part (from /proc and the deployments' replica records) for memory readings and
 * for killing a replica.
 */
import { Deployment_State, Replica_State, type Deployment } from '@stratum/proto';
import { createStratumClient, type StratumClient } from '@stratum/server/dist/client';
import { LONG_LIVED_NODE_FLAGS } from '@stratum/server/dist/util/node-flags';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const REPO = join(__dirname, '..', '..');
export const CLI = join(REPO, 'server', 'dist', 'cli', 'main.js');
export const PENGUINS_DATA = join(REPO, 'node_modules', 'vega-datasets', 'data', 'penguins.json');
export const PENGUINS_SPEC = join(REPO, 'examples', 'penguins.yaml');

/** The heavier model: the penguins features through two dense layers of 1024 (≈4 MiB of weights). */
export const WIDE_MLP_SPEC = `apiVersion: stratum/v1
kind: Pipeline
metadata: { name: penguins-wide }
data: { source: ${PENGUINS_DATA} }
target: Species
features: [Island, Beak Length (mm), Beak Depth (mm), Flipper Length (mm), Body Mass (g), Sex]
transforms:
  - dropMissing: { columns: [Beak Length (mm), Beak Depth (mm), Flipper Length (mm), Body Mass (g)] }
  - fillMissing: { columns: [Sex], strategy: mostFrequent }
  - oneHot: { columns: [Island, Sex] }
  - standardize: { columns: [Beak Length (mm), Beak Depth (mm), Flipper Length (mm), Body Mass (g)] }
split: { holdout: { test: 0.25, seed: 7, stratify: true } }
task: classification
models:
  - name: wide
    trainer: tfjs
    params: { epochs: 3, learningRate: 0.001 }
    layers:
      - dense: { units: 1024, activation: relu }
      - dense: { units: 1024, activation: relu }
selection: { metric: accuracy }
resources: { cpus: 1, memory: 1Gi }
seed: 7
`;

export interface SystemOptions {
  readonly workers: number;
  /** Extra `stratum serve` flags. */
  readonly flags?: readonly string[];
  /** STRATUM_LOG_LEVEL of every part (default warn); the logs go to $STRATUM_HOME/serve.log. */
  readonly logLevel?: string;
  /** Extra environment of `stratum serve`, which every part it starts inherits (the soak's memory probe). */
  readonly env?: Readonly<Record<string, string>>;
}

/** Resident memory of a process from /proc/PID/status (VmRSS), in MiB; null when it is gone. */
export function rssMiB(pid: number): number | null {
  try {
    const kb = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? null : Number(kb) / 1024;
  } catch {
    return null;
  }
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

function parentOf(pid: number): number {
  try {
    // Fields after the command name, which sits in parentheses and may hold spaces.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return -1;
  }
}

/** Direct children of a process, with their command lines. */
export function childrenOf(pid: number): { pid: number; cmd: string }[] {
  const out: { pid: number; cmd: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    const child = Number(entry);
    if (Number.isInteger(child) && parentOf(child) === pid) out.push({ pid: child, cmd: cmdline(child) });
  }
  return out;
}

export interface Parts {
  readonly controlPlane: number;
  readonly workers: readonly number[];
  readonly gateway: number;
  /** Warm-pool processes (a Node process with onnxruntime loaded, no model yet) per worker. */
  readonly warmPool: readonly number[];
}

export class StratumSystem {
  readonly client: StratumClient;

  private constructor(
    readonly home: string,
    readonly url: string,
    readonly gateway: string,
    private readonly child: ChildProcess,
  ) {
    this.client = createStratumClient({ url, token: readFileSync(join(home, 'api-token'), 'utf8').trim() });
  }

  static async start(o: SystemOptions): Promise<StratumSystem> {
    const home = mkdtempSync(join(tmpdir(), 'stratum-bench-system-'));
    const child = spawn(
      process.execPath,
      // Started as `npm start` starts it (scripts/start.mjs): with the long-lived processes' V8 flags.
      [...LONG_LIVED_NODE_FLAGS, CLI, 'serve', '--port', '0', '--workers', String(o.workers), ...(o.flags ?? [])],
      {
        env: { ...process.env, ...o.env, STRATUM_HOME: home, STRATUM_LOG_LEVEL: o.logLevel ?? 'warn' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    // Logs of every part (warnings and errors: STRATUM_LOG_LEVEL=warn) stay in the home, for diagnosis.
    const logFile = createWriteStream(join(home, 'serve.log'));
    let err = '';
    child.stderr!.on('data', (d: Buffer) => {
      logFile.write(d);
      err = (err + d.toString()).slice(-4000);
    });
    const { url, gateway } = await new Promise<{ url: string; gateway: string }>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /control plane on (\S+) .*endpoints on (\S+);/.exec(out);
        if (m) resolve({ url: m[1]!, gateway: m[2]! });
      });
      child.once('exit', (code) => reject(new Error(`stratum serve exited (${code}): ${out}${err}`)));
    });
    const system = new StratumSystem(home, url, gateway, child);
    await system.waitFor(async () => (await system.client.cluster.getCluster({})).workers.length >= o.workers, 60_000);
    return system;
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** The `stratum` CLI against this system; resolves stdout, rejects with stderr on a failure. */
  cli(args: readonly string[], timeoutMs = 300_000): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile(
        process.execPath,
        [CLI, ...args],
        { env: { ...process.env, STRATUM_HOME: this.home }, timeout: timeoutMs, maxBuffer: 64 << 20 },
        (e, stdout, stderr) =>
          e ? reject(new Error(`stratum ${args.join(' ')}: ${stderr || e.message}`)) : resolve(stdout),
      );
    });
  }

  /** `stratum run FILE --json` (the spec text written to a file when given as text); the run's seconds. */
  async run(spec: { file: string } | { text: string; name: string }): Promise<{ seconds: number; json: unknown }> {
    let file: string;
    if ('file' in spec) file = spec.file;
    else {
      file = join(this.home, `${spec.name}.yaml`);
      writeFileSync(file, spec.text);
    }
    const t0 = performance.now();
    const json = JSON.parse(await this.cli(['run', file, '--json'])) as { state?: string; stateReason?: string };
    if (json.state !== 'STATE_SUCCEEDED') throw new Error(`run of ${file} ended ${json.state}: ${json.stateReason}`);
    return { seconds: (performance.now() - t0) / 1000, json };
  }

  /** The registered ONNX file of a model (its latest version), in the artifact store. */
  async modelFile(name: string): Promise<string> {
    const model = JSON.parse(await this.cli(['model', name, '--json'])) as { digest: string };
    const hex = model.digest.replace(/^sha256:/, '');
    return join(this.home, 'artifacts', hex.slice(0, 2), hex);
  }

  /** `stratum deploy MODEL --tier cloud ...flags --json`, then waits for every replica to be ready. */
  async deploy(model: string, flags: readonly string[]): Promise<Deployment> {
    const out = JSON.parse(await this.cli(['deploy', model, '--tier', 'cloud', ...flags, '--json'])) as {
      name: string;
    };
    return this.waitReady(out.name);
  }

  async deployment(name: string): Promise<Deployment> {
    return (await this.client.deployments.getDeployment({ name })).deployment!;
  }

  /** Waits until the deployment is READY with all desired replicas ready. */
  async waitReady(name: string, timeoutMs = 120_000): Promise<Deployment> {
    let d: Deployment | undefined;
    await this.waitFor(async () => {
      d = await this.deployment(name);
      const ready = d.replicas.filter((r) => r.state === Replica_State.READY).length;
      return d.state === Deployment_State.READY && ready >= d.desiredReplicas && ready > 0;
    }, timeoutMs);
    return d!;
  }

  async waitFor(check: () => Promise<boolean>, timeoutMs: number, everyMs = 100): Promise<void> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      if (await check().catch(() => false)) return;
      if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, everyMs));
    }
  }

  /** Process ids of the long-lived parts, found among the serve process's children; `replicas` are not warm-pool processes. */
  parts(replicas: readonly number[] = []): Parts {
    const children = childrenOf(this.pid);
    const workers = children.filter((c) => / worker --join /.test(c.cmd)).map((c) => c.pid);
    const gateway = children.find((c) => c.cmd.includes('gateway-main.js'));
    if (!gateway) throw new Error('no gateway process among the control plane children');
    const warmPool = workers.flatMap((w) =>
      childrenOf(w)
        .filter((c) => c.cmd.includes('warm-replica-main.js') && !replicas.includes(c.pid))
        .map((c) => c.pid),
    );
    return { controlPlane: this.pid, workers, gateway: gateway.pid, warmPool };
  }

  /** A replica's pid, checked to be a replica process whose parent is one of this system's workers. */
  replicaPid(pid: number): number {
    const workers = new Set(this.parts().workers);
    const cmd = cmdline(pid);
    if (!workers.has(parentOf(pid)) || !/(warm-replica-main|replica-main)\.js/.test(cmd))
      throw new Error(`pid ${pid} is not a replica of this system (${cmd || 'gone'})`);
    return pid;
  }

  /** Stops every part, then removes the home (kept, with serve.log, when STRATUM_BENCH_KEEP_HOME is set). */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
    if (process.env.STRATUM_BENCH_KEEP_HOME) console.error(`bench: Stratum home kept at ${this.home}`);
    else rmSync(this.home, { recursive: true, force: true });
  }
}
