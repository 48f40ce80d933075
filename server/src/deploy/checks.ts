/**
 * The checks a deployment plan must pass before anything starts, as pure functions: each
 * compares what the model needs with what the tier offers and says so in numbers. The plan is
 * feasible when every check is ok; the control plane refuses CreateDeployment otherwise.
 */
import { fits, freeOf } from '../scheduler/placement';
import { isDatatype } from '../serving/tensor-data';
import type { PlanCheckResult, PlanInput, PlanModel, PlanWorker, ResourceAmounts } from './types';

/**
 * Replica memory, measured on replica-main (Node 20, onnxruntime-node 1.30, CPU): an empty
 * model settles at ~100 MiB resident, and each MiB of model adds ~2.1 MiB (the file bytes read
 * once, onnxruntime's initializers and pre-packed weights, activations of a batch). The estimate
 * is RUNTIME_BASE_MB + MODEL_FACTOR × model MiB, rounded up to 16 MiB, with headroom on both.
 */
export const RUNTIME_BASE_MB = 128;
export const MODEL_FACTOR = 2.5;
/** Execution providers that run on a GPU: a worker must list them and have a GPU. */
export const GPU_PROVIDERS: ReadonlySet<string> = new Set(['cuda', 'tensorrt', 'rocm', 'migraphx', 'dml']);

const MIB = 2 ** 20;
const roundUp = (n: number, step: number): number => Math.ceil(n / step) * step;
const mib = (bytes: number): string => `${+(bytes / MIB).toFixed(1)} MiB`;
const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** What one replica of the model asks for: 1 cpu, memory by the formula above, 1 GPU on a GPU provider. */
export function replicaResources(model: Pick<PlanModel, 'sizeBytes'>, executionProvider = 'cpu'): ResourceAmounts {
  const memoryMb = roundUp(RUNTIME_BASE_MB + MODEL_FACTOR * (model.sizeBytes / MIB), 16);
  return { cpus: 1, memoryMb, gpus: GPU_PROVIDERS.has(executionProvider) ? 1 : 0 };
}

const check = (name: string, ok: boolean, message: string): PlanCheckResult => ({ name, ok, message });

function replicaBounds({ request }: PlanInput): PlanCheckResult {
  const { minReplicas: min, maxReplicas: max } = request;
  if (max < 1)
    return check('replica bounds', false, `max replicas is ${max}; a deployment needs at least 1 to answer anything`);
  if (min > max) return check('replica bounds', false, `min replicas ${min} is above max replicas ${max}`);
  return check(
    'replica bounds',
    true,
    min === 0 ? `0 to ${max} replicas; scales to zero when idle` : `${min} to ${max} replicas`,
  );
}

function signatureKnown({ model }: PlanInput): PlanCheckResult {
  const name = 'signature known';
  if (model.inputs.length === 0) return check(name, false, `model ${model.name} declares no inputs`);
  const oddIn = model.inputs.filter((t) => !isDatatype(t.datatype));
  if (oddIn.length > 0) {
    const list = oddIn.map((t) => `"${t.name}" (${t.datatype || 'no type'})`).join(', ');
    return check(name, false, `input ${list} has no Open Inference Protocol datatype, so no request can carry it`);
  }
  const servable = model.outputs.filter((t) => isDatatype(t.datatype));
  const left = model.outputs.filter((t) => !isDatatype(t.datatype));
  if (servable.length === 0) {
    return check(
      name,
      false,
      `none of the outputs is a tensor (${left.map((t) => `"${t.name}" is ${t.datatype}`).join(', ')}); nothing could be answered`,
    );
  }
  const io = `${plural(model.inputs.length, 'input')}, ${plural(servable.length, 'tensor output')}, opset ${model.opset}`;
  if (left.length === 0) return check(name, true, io);
  const skipped = left.map((t) => `"${t.name}" (${t.datatype})`).join(', ');
  return check(name, true, `${io}; output ${skipped} is not a tensor and is left out of answers`);
}

function memoryFits(input: PlanInput, need: ResourceAmounts): PlanCheckResult {
  const name = 'memory fits';
  const { tier, model } = input;
  const formula = input.replicaResources
    ? ''
    : ` (${RUNTIME_BASE_MB} MiB runtime + ${MODEL_FACTOR} × ${mib(model.sizeBytes)} model)`;
  const needs = `model needs ~${need.memoryMb} MiB per replica${formula}`;
  if (tier.workers.length === 0) return check(name, false, `${needs}; no worker has joined tier ${tier.name}`);
  const largest = Math.max(...tier.workers.map((w) => w.total.memoryMb));
  const ok = need.memoryMb <= largest;
  return check(name, ok, `${needs}; largest ${tier.name} worker offers ${largest} MiB`);
}

function offers(w: PlanWorker, provider: string): boolean {
  if (provider === 'cpu') return true;
  return w.executionProviders.includes(provider) && (!GPU_PROVIDERS.has(provider) || w.total.gpus > 0);
}

function executionProvider(input: PlanInput): PlanCheckResult {
  const name = 'execution provider';
  const provider = input.request.executionProvider ?? 'cpu';
  const { workers } = input.tier;
  if (provider === 'cpu') return check(name, true, `cpu: every worker runs onnxruntime's CPU provider`);
  const able = workers.filter((w) => offers(w, provider));
  if (able.length > 0)
    return check(
      name,
      true,
      `${provider}: offered by ${plural(able.length, `${input.tier.name} worker`)} of ${workers.length}`,
    );
  const gpus = workers.filter((w) => w.total.gpus > 0).length;
  const why =
    GPU_PROVIDERS.has(provider) && gpus === 0
      ? `no ${input.tier.name} worker has a GPU`
      : `no ${input.tier.name} worker offers it`;
  return check(name, false, `${provider}: ${why} (${plural(workers.length, 'worker')}, ${gpus} with GPUs)`);
}

/** How many replicas needing `need` fit into a worker's free resources now. */
export function replicasThatFit(worker: Pick<PlanWorker, 'total' | 'used'>, need: ResourceAmounts): number {
  const free = freeOf(worker);
  if (!fits(need, free)) return 0;
  const per = (have: number, want: number): number => (want > 0 ? Math.floor(have / want + 1e-9) : Infinity);
  const n = Math.min(per(free.cpus, need.cpus), per(free.memoryMb, need.memoryMb), per(free.gpus, need.gpus));
  return Number.isFinite(n) ? n : Number.MAX_SAFE_INTEGER;
}

function capacity(input: PlanInput, need: ResourceAmounts): PlanCheckResult {
  const name = 'capacity';
  const { tier, request } = input;
  const provider = request.executionProvider ?? 'cpu';
  const ready = tier.workers.filter((w) => w.ready !== false && offers(w, provider));
  const min = request.minReplicas;
  if (ready.length === 0) {
    return min === 0
      ? check(name, true, `no ready ${tier.name} worker now; min replicas is 0, so the deployment waits scaled to zero`)
      : check(name, false, `no ready ${tier.name} worker to place ${plural(min, 'replica')} on`);
  }
  const room = ready.reduce((n, w) => Math.min(Number.MAX_SAFE_INTEGER, n + replicasThatFit(w, need)), 0);
  const ask = `${need.cpus} cpu, ${need.memoryMb} MiB${need.gpus > 0 ? `, ${need.gpus} GPU` : ''} each`;
  const msg = `${plural(min, 'replica')} (${ask}) asked; free resources of ${plural(ready.length, `ready ${tier.name} worker`)} hold ${room}`;
  return check(name, room >= min, msg);
}

function qosReachable(input: PlanInput): PlanCheckResult {
  const name = 'QoS reachable';
  const q = input.request.qos;
  const asked = q && [q.p50Ms, q.p95Ms, q.p99Ms, q.rps, q.maxCostPerHour].some((v) => v > 0);
  if (!asked) return check(name, true, 'no QoS asked');
  if (input.qosCheck) {
    const verdict = input.qosCheck();
    return check(name, verdict.ok, verdict.message);
  }
  const { model, tier } = input;
  return check(
    name,
    false,
    `no profile of ${model.name} on ${tier.name}: run \`stratum profile ${model.name} --tiers ${tier.name}\``,
  );
}

/** Every check, in the order a reader fixes them: bounds, signature, memory, provider, capacity, QoS. */
export function checkPlan(input: PlanInput): PlanCheckResult[] {
  const need = input.replicaResources ?? replicaResources(input.model, input.request.executionProvider);
  return [
    replicaBounds(input),
    signatureKnown(input),
    memoryFits(input, need),
    executionProvider(input),
    capacity(input, need),
    qosReachable(input),
  ];
}

export const feasible = (checks: readonly PlanCheckResult[]): boolean => checks.every((c) => c.ok);
