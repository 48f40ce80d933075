/**
 * Search space → trials. Pure and deterministic: the same spec always gives the same trials
 * with the same seeds, on any machine, so a run can be replayed or resumed.
 */
import { trainerInfo } from '../trainers/catalog';
import { createRng, deriveSeed, type Rng } from '../util/random';
import { type CandidateSpec, type ParamScalar, type ParamSpace, type PipelineSpec } from './schema';

export interface TrialPlan {
  /** Position in the run, from 0. */
  index: number;
  candidate: string;
  trainer: string;
  /** One point of the candidate's search space (trainer defaults not applied). */
  params: Record<string, number | string | boolean>;
  seed: number;
}

/** A grid axis longer than this is a mistake (a range of floats read as integers, say). */
export const MAX_POINTS_PER_PARAM = 10000;
/** Trials a run may expand to when `search.maxTrials` does not cap it. */
export const MAX_TRIALS = 100000;
/** Points a grid takes from a `logRange` without `num`. */
export const DEFAULT_LOG_POINTS = 3;
/** Samples per candidate under random search without `search.samples`. */
export const DEFAULT_SAMPLES = 10;

/** The value type the trainer's schema gives a parameter; extra (layer) params are 'unknown'. */
export type ParamType = 'integer' | 'number' | 'other' | 'unknown';

export function paramType(trainer: string, name: string): ParamType {
  const props = trainerInfo(trainer)?.params.properties as Record<string, { type?: string }> | undefined;
  const t = props?.[name]?.type;
  if (!props?.[name]) return 'unknown';
  return t === 'integer' || t === 'number' ? t : 'other';
}

type Range = { range: [number, number]; step?: number; num?: number };
type LogRange = { logRange: [number, number]; num?: number };

export const isRange = (s: ParamSpace): s is Range => typeof s === 'object' && !Array.isArray(s) && 'range' in s;
export const isLogRange = (s: ParamSpace): s is LogRange =>
  typeof s === 'object' && !Array.isArray(s) && 'logRange' in s;

/**
 * A `range` of whole numbers: integer ends, no `num`, an integer step if any, and a parameter
 * that is not declared as a float (so `learningRate: {range: [0, 1]}` stays continuous).
 */
export function isIntegerRange(space: Range, type: ParamType): boolean {
  const [lo, hi] = space.range;
  const wholeStep = space.step === undefined || Number.isInteger(space.step);
  return Number.isInteger(lo) && Number.isInteger(hi) && wholeStep && space.num === undefined && type !== 'number';
}

/** How many points a grid takes from one parameter (before rounding removes duplicates). */
export function gridPointCount(space: ParamSpace, type: ParamType): number {
  if (Array.isArray(space)) return space.length;
  if (isLogRange(space)) return space.num ?? DEFAULT_LOG_POINTS;
  if (!isRange(space)) return 1;
  const [lo, hi] = space.range;
  if (space.num !== undefined) return space.num;
  if (space.step !== undefined) return Math.floor((hi - lo) / space.step + 1e-9) + 1;
  return isIntegerRange(space, type) ? hi - lo + 1 : Infinity;
}

/** The points a grid takes from one parameter. Throws for a float range with neither step nor num. */
export function gridPoints(space: ParamSpace, type: ParamType): ParamScalar[] {
  if (Array.isArray(space)) return space;
  if (!isRange(space) && !isLogRange(space)) return [space];
  const count = gridPointCount(space, type);
  if (!Number.isFinite(count)) throw new RangeError('a float range under grid search needs "step" or "num"');
  if (count > MAX_POINTS_PER_PARAM)
    throw new RangeError(`a grid axis of ${count} points exceeds ${MAX_POINTS_PER_PARAM}`);
  const points: number[] = [];
  if (isLogRange(space)) {
    const [lo, hi] = space.logRange;
    for (let i = 0; i < count; i++) points.push(count === 1 ? lo : lo * Math.pow(hi / lo, i / (count - 1)));
  } else {
    const [lo, hi] = space.range;
    const step = space.step ?? (space.num === undefined ? 1 : count > 1 ? (hi - lo) / (count - 1) : 0);
    for (let i = 0; i < count; i++) points.push(lo + i * step);
  }
  // 12 significant digits hides float noise (0.1 + 2 * 0.1); integer params get whole numbers.
  const tidy = points.map((p) => (type === 'integer' ? Math.round(p) : Number(p.toPrecision(12))));
  return [...new Set(tidy)];
}

/** One random draw from a parameter's space. */
export function sampleParam(space: ParamSpace, type: ParamType, rng: Rng): ParamScalar {
  if (Array.isArray(space)) return space[rng.int(space.length)]!;
  if (isLogRange(space)) {
    const [lo, hi] = space.logRange;
    const v = Math.exp(Math.log(lo) + rng.next() * (Math.log(hi) - Math.log(lo)));
    return type === 'integer' ? Math.round(v) : v;
  }
  if (!isRange(space)) return space;
  if (space.step !== undefined) {
    const points = gridPoints(space, type);
    return points[rng.int(points.length)]!;
  }
  const [lo, hi] = space.range;
  if (isIntegerRange(space, type)) return lo + rng.int(hi - lo + 1);
  const v = lo + rng.next() * (hi - lo);
  return type === 'integer' ? Math.round(v) : v;
}

/** A candidate's trials, lazily: `count` of them, `at(i)` builds the i-th point. */
interface CandidatePlan {
  readonly count: number;
  at(i: number): Record<string, ParamScalar>;
}

function gridPlan(c: CandidateSpec): CandidatePlan {
  const names = Object.keys(c.params ?? {});
  const axes = names.map((n) => gridPoints(c.params![n]!, paramType(c.trainer, n)));
  const count = axes.reduce((n, axis) => n * axis.length, 1);
  return {
    count,
    at(i) {
      // Mixed-radix decode, last parameter fastest, like nested loops in spec order.
      const params: Record<string, ParamScalar> = {};
      let rest = i;
      for (let k = axes.length - 1; k >= 0; k--) {
        const axis = axes[k]!;
        params[names[k]!] = axis[rest % axis.length]!;
        rest = Math.floor(rest / axis.length);
      }
      return Object.fromEntries(names.map((n) => [n, params[n]!]));
    },
  };
}

/** Whether a candidate's space is a single point (every parameter fixed). */
function isFixedSpace(c: CandidateSpec): boolean {
  return Object.values(c.params ?? {}).every((s) =>
    Array.isArray(s) ? s.length === 1 : !isRange(s) && !isLogRange(s),
  );
}

/** How many trials a candidate expands to before any cap (Infinity: a float range on a grid). */
export function candidateTrialCount(c: CandidateSpec, strategy: 'grid' | 'random', samples: number): number {
  // A space with one point is one trial, however many samples were asked for.
  if (strategy === 'random') return isFixedSpace(c) ? 1 : samples;
  return Object.entries(c.params ?? {}).reduce((n, [name, s]) => n * gridPointCount(s, paramType(c.trainer, name)), 1);
}

function randomPlan(c: CandidateSpec, samples: number, seed: number): CandidatePlan {
  const params = c.params ?? {};
  const names = Object.keys(params);
  const count = candidateTrialCount(c, 'random', samples);
  // One stream per candidate: adding a candidate does not change the others' samples.
  const rng = createRng(deriveSeed(seed, `search/${c.name}`));
  const drawn: Record<string, ParamScalar>[] = [];
  return {
    count,
    at(i) {
      while (drawn.length <= i) {
        drawn.push(Object.fromEntries(names.map((n) => [n, sampleParam(params[n]!, paramType(c.trainer, n), rng)])));
      }
      return drawn[i]!;
    },
  };
}

/**
 * Shares `cap` trials among candidates fairly: one each in turn until the cap or every
 * candidate's space runs out, so a cap never starves the candidates listed last.
 */
export function shareTrials(counts: readonly number[], cap: number): number[] {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total <= cap) return counts.slice();
  const share = counts.map(() => 0);
  let left = cap;
  while (left > 0) {
    for (let c = 0; c < counts.length && left > 0; c++) {
      if (share[c]! < counts[c]!) {
        share[c]!++;
        left--;
      }
    }
  }
  return share;
}

/** The trials of a validated spec, candidates in spec order. */
export function expandSearchSpace(spec: PipelineSpec): TrialPlan[] {
  const strategy = spec.search?.strategy ?? 'grid';
  const baseSeed = spec.search?.seed ?? spec.seed ?? 0;
  const samples = spec.search?.samples ?? DEFAULT_SAMPLES;
  const plans = spec.models.map((c) => (strategy === 'grid' ? gridPlan(c) : randomPlan(c, samples, baseSeed)));
  const shares = shareTrials(
    plans.map((p) => p.count),
    spec.search?.maxTrials ?? MAX_TRIALS,
  );
  const trials: TrialPlan[] = [];
  spec.models.forEach((c, k) => {
    const plan = plans[k]!;
    const take = shares[k]!;
    for (let j = 0; j < take; j++) {
      // Under a cap a grid is thinned evenly rather than cut after its first rows.
      const point = strategy === 'grid' ? Math.floor((j * plan.count) / take) : j;
      trials.push({
        index: trials.length,
        candidate: c.name,
        trainer: c.trainer,
        params: plan.at(point),
        seed: deriveSeed(baseSeed, `${c.name}/${point}`),
      });
    }
  });
  return trials;
}
