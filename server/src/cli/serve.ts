/** `stratum serve` and `stratum worker`: the long-running processes. */
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, hostname, totalmem } from 'node:os';
import { join } from 'node:path';

import { startControlPlane } from '../api/server';
import { emulatedTierWorkers, loadTiers, selectTiers } from '../config/tiers';
import { GATEWAY_NAME } from '../deploy/gateway/gateway';
import { DEFAULT_PORT, ensureDir, stratumHome } from '../config/home';
import { parseQuantityMiB } from '../spec';
import { TRAINERS } from '../trainers/catalog';
import { WorkerRepo } from '../store/workers';
import { ALLOWED_TRAINERS_ENV, resolveAllowed, type AllowedTrainers } from '../trainers/external-allow';
import { createLogger, type Logger } from '../util/log';
import { WorkerAgent } from '../workers/agent';
import { InProcessExecutor, ProcessExecutor } from '../workers/executor';
import { describeGpus, detectGpus, workerGpus } from '../workers/gpus';
import { LocalProvisioner } from '../workers/local-provisioner';
import { RayProvisioner } from '../workers/ray-provisioner';
import { RayJobsClient } from '../workers/ray/jobs-client';
import { DEFAULT_SCALING } from '../workers/ray/scaling';
import { tokenize, UsageError, type FlagValue } from './args';

type Flags = Readonly<Record<string, FlagValue>>;

function onShutdown(fn: () => Promise<void>): void {
  let closing = false;
  const handler = (): void => {
    if (closing) return;
    closing = true;
    fn().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}

function quantity(flag: string, v: FlagValue | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  try {
    return parseQuantityMiB(String(v));
  } catch {
    throw new UsageError(`--${flag} expects a size such as 2048 (MiB), 512Mi or 4Gi, got "${String(v)}"`);
  }
}

function nonNegativeInt(flag: string, v: FlagValue | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`--${flag} expects a whole number ≥ 0, got ${String(v)}`);
  return n;
}

/** The external trainer's allow-list from trainers.json, the environment and --allow-trainer. */
function allowList(home: string, flags: Flags): AllowedTrainers {
  try {
    return resolveAllowed(home, (flags['allow-trainer'] as string[] | undefined) ?? []);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** Trainer names a worker offers: `external` only where some command is allowed. */
function offeredTrainers(allowed: AllowedTrainers): string[] {
  return TRAINERS.map((t) => t.name).filter((n) => n !== 'external' || Object.keys(allowed).length > 0);
}

export async function serve(flags: Flags): Promise<void> {
  const home = ensureDir(flags.home ? String(flags.home) : stratumHome());
  const log = createLogger('stratum-control-plane');
  const kind = String(flags.provisioner ?? 'local');
  if (kind !== 'local' && kind !== 'ray') throw new UsageError(`--provisioner expects local or ray, got "${kind}"`);
  if (kind === 'ray' && !flags['ray-address']) throw new UsageError('--provisioner ray needs --ray-address URL');
  const allowed = allowList(home, flags);
  // Local workers (and, through their job environment, Ray workers) inherit the allow-list.
  if (Object.keys(allowed).length > 0) process.env[ALLOWED_TRAINERS_ENV] = JSON.stringify(allowed);
  const workers = nonNegativeInt('workers', flags.workers, kind === 'ray' ? 0 : 2);
  const workerCpus = Number(flags['worker-cpus'] ?? 1);
  if (!(workerCpus > 0))
    throw new UsageError(`--worker-cpus expects a number > 0, got ${String(flags['worker-cpus'])}`);
  const workerMemory = quantity('worker-memory', flags['worker-memory'], 2048);
  const port = nonNegativeInt('port', flags.port, DEFAULT_PORT);
  const leaseTtl = flags['lease-ttl'] !== undefined ? nonNegativeInt('lease-ttl', flags['lease-ttl'], 5000) : undefined;

  // One emulated worker per tier, offering that tier's resources (config/tiers.ts); checked
  // before anything starts.
  let tierWorkers: ReturnType<typeof emulatedTierWorkers> | undefined;
  if (flags.tiers) {
    try {
      tierWorkers = emulatedTierWorkers(selectTiers(loadTiers(home), flags.tiers as string[]));
    } catch (e) {
      throw new UsageError(`--tiers: ${(e as Error).message}`);
    }
  }
  const cp = await startControlPlane({
    home,
    host: flags.host ? String(flags.host) : '127.0.0.1',
    port,
    log,
    scheduler: leaseTtl ? { leaseTtlMs: leaseTtl, heartbeatIntervalMs: Math.max(100, Math.floor(leaseTtl / 5)) } : {},
    autoscaling: {
      ...(flags['scale-down-delay'] !== undefined
        ? { scaleDownDelayMs: nonNegativeInt('scale-down-delay', flags['scale-down-delay'], 0) }
        : {}),
      ...(flags['idle-to-zero'] !== undefined
        ? { idleToZeroMs: nonNegativeInt('idle-to-zero', flags['idle-to-zero'], 0) }
        : {}),
    },
  });
  const provisioner = new LocalProvisioner({
    url: cp.url,
    joinToken: cp.secrets.joinToken,
    apiToken: cp.secrets.apiToken,
    home,
    log,
  });
  if (tierWorkers) {
    for (const w of tierWorkers) provisioner.start(w);
  } else {
    for (let i = 1; i <= workers; i++) {
      provisioner.start({
        name: `local-${i}`,
        tier: flags.tier ? String(flags.tier) : 'cloud',
        resources: { cpus: workerCpus, memoryMb: workerMemory, gpus: 0 },
      });
    }
  }
  const gatewayPort =
    flags['gateway-port'] !== undefined
      ? nonNegativeInt('gateway-port', flags['gateway-port'], 0)
      : port === 0
        ? await freePort()
        : port + 1;
  // A gateway still serving from before a control plane restart is adopted, not replaced:
  // the data plane must not blink because the control plane did.
  const gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
  const adopted = (await isGateway(gatewayUrl)) ? previousGatewayPid(home) : undefined;
  const gateway =
    adopted !== undefined ? gatewayUrl : await provisioner.startGateway(gatewayPort || (await freePort()));
  const gatewayPid = adopted ?? provisioner.pids().gateway;
  cp.setEndpoint(gateway);
  const ray = kind === 'ray' ? await rayProvisioner(flags, cp, allowed, log) : undefined;
  writeFileSync(
    join(home, 'server.json'),
    JSON.stringify({ url: cp.url, gateway, gatewayPid, pid: process.pid }) + '\n',
    { mode: 0o600 },
  );
  process.stdout.write(
    `stratum control plane on ${cp.url} with ${workers} local worker(s)` +
      (ray ? ` and up to ${flags['ray-max-workers'] ?? DEFAULT_SCALING.maxWorkers} Ray worker job(s)` : '') +
      `; endpoints on ${gateway}; state in ${home}\n`,
  );
  onShutdown(async () => {
    await ray?.stopAll();
    await provisioner.stopAll();
    // An adopted gateway is ours now: a clean shutdown stops it like one we started.
    if (adopted) {
      try {
        process.kill(adopted, 'SIGTERM');
      } catch {
        // Already gone.
      }
    }
    await cp.close();
  });
}

export async function worker(flags: Flags): Promise<void> {
  const home = stratumHome();
  const url = String(flags.join ?? process.env.STRATUM_SERVER ?? `http://127.0.0.1:${DEFAULT_PORT}`);
  const joinToken = flags.token ? String(flags.token) : (process.env.STRATUM_JOIN_TOKEN ?? readJoinToken(home));
  if (!joinToken) throw new UsageError('worker needs --token (the join token) or $STRATUM_JOIN_TOKEN');
  const cpusOffered = flags.cpus !== undefined ? Number(flags.cpus) : cpus().length;
  if (!(cpusOffered > 0)) throw new UsageError(`--cpus expects a number > 0, got ${String(flags.cpus)}`);
  const memoryMb = quantity('memory', flags.memory, Math.floor((totalmem() / 2 ** 20) * 0.8));
  const allowed = allowList(home, flags);
  // Executor processes (where the external trainer runs) read the allow-list from here.
  process.env[ALLOWED_TRAINERS_ENV] = JSON.stringify(allowed);
  const detected = detectGpus();
  let gpus: ReturnType<typeof workerGpus>;
  try {
    gpus = workerGpus(flags.gpus !== undefined ? nonNegativeInt('gpus', flags.gpus, 0) : undefined, detected);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const name = flags.name ? String(flags.name) : `${hostname()}-${process.pid}`;
  const labels: Record<string, string> = {};
  for (const kv of (flags.label as string[] | undefined) ?? []) {
    const [k, ...v] = kv.split('=');
    if (!k || v.length === 0) throw new UsageError(`--label expects K=V, got "${kv}"`);
    labels[k] = v.join('=');
  }
  const log = createLogger(`stratum-worker:${name}`);
  const tier = flags.tier ? String(flags.tier) : 'cloud';
  const replicaLimits = flags['emulate-tier'] ? emulatedLimits(home, tier) : undefined;
  const agent = new WorkerAgent({
    url,
    joinToken,
    name,
    tier,
    resources: { cpus: cpusOffered, memoryMb, gpus: gpus.ids.length },
    gpuIds: gpus.ids,
    labels,
    versions: {
      executionProviders: gpus.executionProviders.join(','),
      ...(detected.length > 0 ? { gpus: describeGpus(detected) } : {}),
    },
    trainers: offeredTrainers(allowed),
    executor: flags['in-process'] ? new InProcessExecutor() : new ProcessExecutor({ maxIdle: Math.ceil(cpusOffered) }),
    cacheDir: join(home, 'worker-cache', name.replace(/[^A-Za-z0-9._-]/g, '_')),
    log,
    warmReplicas: nonNegativeInt('warm-replicas', flags['warm-replicas'], 1),
    ...(replicaLimits ? { replicaLimits } : {}),
  });
  await agent.start();
  onShutdown(() => agent.stop());
}

/** `worker --emulate-tier`: the limits of the worker's tier (tiers.yaml or the defaults), for its replicas. */
function emulatedLimits(home: string, tier: string): { cpus: number; threads: number; memoryMb: number } {
  let t;
  try {
    t = selectTiers(loadTiers(home), [tier])[0]!;
  } catch (e) {
    throw new UsageError(`--emulate-tier: ${(e as Error).message}`);
  }
  return { cpus: t.cpus, threads: t.threads, memoryMb: t.memoryMb };
}

async function rayProvisioner(
  flags: Flags,
  cp: Awaited<ReturnType<typeof startControlPlane>>,
  allowed: AllowedTrainers,
  log: Logger,
): Promise<RayProvisioner> {
  const cpusPerJob = Number(flags['ray-worker-cpus'] ?? 1);
  if (!(cpusPerJob > 0))
    throw new UsageError(`--ray-worker-cpus expects a number > 0, got ${String(flags['ray-worker-cpus'])}`);
  const tier = flags['ray-tier'] ? String(flags['ray-tier']) : flags.tier ? String(flags.tier) : 'cloud';
  const workerRepo = new WorkerRepo(cp.db);
  const command = flags['ray-worker-command']
    ? tokenize(String(flags['ray-worker-command']))
    : [process.execPath, join(__dirname, 'main.js')];
  const ray = new RayProvisioner({
    client: new RayJobsClient({ address: String(flags['ray-address']) }),
    cluster: {
      pending: () => cp.scheduler.pendingTrials(),
      workers: () => {
        const use = cp.scheduler.usage();
        return workerRepo.all().map((w) => ({
          name: w.name,
          live: cp.scheduler.isLive(w.id),
          running: use.get(w.id)?.running.length ?? 0,
        }));
      },
    },
    joinUrl: flags['ray-join-url'] ? String(flags['ray-join-url']) : cp.url.replace('0.0.0.0', hostname()),
    joinToken: cp.secrets.joinToken,
    tokenInJob: !flags['ray-token-from-node'],
    workerCommand: command,
    shape: {
      resources: {
        cpus: cpusPerJob,
        memoryMb: quantity('ray-worker-memory', flags['ray-worker-memory'], 2048),
        gpus: nonNegativeInt('ray-worker-gpus', flags['ray-worker-gpus'], 0),
      },
      tier,
      trainers: offeredTrainers(allowed),
    },
    ...(flags['ray-tier'] ? { tierResource: `stratum-tier-${tier}` } : {}),
    ...(Object.keys(allowed).length > 0 ? { env: { [ALLOWED_TRAINERS_ENV]: JSON.stringify(allowed) } } : {}),
    scaling: {
      ...DEFAULT_SCALING,
      maxWorkers: nonNegativeInt('ray-max-workers', flags['ray-max-workers'], DEFAULT_SCALING.maxWorkers),
      idleMs: nonNegativeInt('ray-idle-timeout', flags['ray-idle-timeout'], DEFAULT_SCALING.idleMs),
    },
    log,
  });
  await ray.start();
  return ray;
}

/** The gateway pid the previous `serve` recorded (0 when unknown: the gateway is still adopted). */
function previousGatewayPid(home: string): number {
  try {
    const info = JSON.parse(readFileSync(join(home, 'server.json'), 'utf8')) as { gatewayPid?: number };
    return Number(info.gatewayPid ?? 0);
  } catch {
    return 0;
  }
}

async function isGateway(url: string): Promise<boolean> {
  try {
    // OIP server metadata names the server: a replica or another program on the port is not adopted.
    const res = await fetch(`${url}/v2`, { signal: AbortSignal.timeout(1000) });
    return res.ok && ((await res.json()) as { name?: string }).name === GATEWAY_NAME;
  } catch {
    return false;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function readJoinToken(home: string): string {
  try {
    return readFileSync(join(home, 'join-token'), 'utf8').trim();
  } catch {
    return '';
  }
}
