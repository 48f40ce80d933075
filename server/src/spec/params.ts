/**
 * Checks of one candidate against the trainer catalog: the trainer exists and handles the
 * task, each parameter is one the trainer takes, every value of its search space has the
 * parameter's type, ranges are not empty, and layer `$name` references resolve.
 */
import { TRAINERS, trainerInfo, type TrainerInfo } from '../trainers/catalog';
import { type CheckContext } from './context';
import { type Schema } from './json-like';
import { type CandidateSpec, type ParamSpace } from './schema';
import { gridPointCount, isLogRange, isRange, MAX_POINTS_PER_PARAM, paramType, type ParamType } from './search-space';
import { nodeAt, type Path } from './source';
import { suggest } from './suggest';
import { checkNode } from './validate';

export function checkCandidate(ctx: CheckContext, i: number): void {
  const { spec, source } = ctx;
  const c = spec.models[i]!;
  const base: Path = ['models', i];
  const info = trainerInfo(c.trainer);
  if (!info) {
    const names = TRAINERS.map((t) => t.name);
    source.atValue([...base, 'trainer'], `unknown trainer ${JSON.stringify(c.trainer)}`, suggest(c.trainer, names));
  } else {
    if (!info.tasks.includes(spec.task)) {
      const message = `trainer ${JSON.stringify(c.trainer)} does not support ${spec.task} (it handles ${info.tasks.join(', ')})`;
      source.atValue([...base, 'trainer'], message);
    }
    if (c.layers && !info.layers)
      source.atKey([...base, 'layers'], `trainer ${JSON.stringify(c.trainer)} takes no layers`);
    if (!c.layers && info.layers) source.atValue(base, `trainer ${JSON.stringify(c.trainer)} needs a "layers" stack`);
  }
  const refs = layerRefs(c, base);
  const params = c.params ?? {};
  const has = (name: string): boolean => Object.prototype.hasOwnProperty.call(params, name);
  const referenced = new Set(refs.map((r) => r.name));
  const dangling = refs.filter((r) => !has(r.name));
  const extraOk = info?.params.additionalProperties === true;
  // `units` beside a layer's `$unit` is one typo, reported once: at the reference. (Past a
  // few dangling references this is no longer one typo, and the pairing is skipped.)
  const explained = (name: string): boolean =>
    extraOk && dangling.length <= 20 && dangling.some((r) => suggest(r.name, [name]) !== undefined);
  for (const [name, space] of Object.entries(params)) {
    if (source.full) return;
    const path: Path = [...base, 'params', name];
    const schema = info ? paramSchema(info, name) : undefined;
    const passed = extraOk && (info?.passThrough === true || referenced.has(name));
    if (info && !schema && !passed && !explained(name)) {
      const known = Object.keys(info.params.properties);
      const extra =
        info.params.additionalProperties === true ? ` (a layer may use an extra parameter as "$${name}")` : '';
      const message = `unknown parameter ${JSON.stringify(name)} for trainer ${JSON.stringify(c.trainer)}${extra}`;
      source.atKey(path, message, suggest(name, [...known, ...referenced]));
      continue;
    }
    checkSpace(ctx, path, space, schema, info ? paramType(c.trainer, name) : 'unknown');
  }
  for (const ref of dangling) {
    if (source.full) return;
    const hint = suggest(ref.name, Object.keys(params));
    const message = `"$${ref.name}" refers to no parameter of candidate ${JSON.stringify(c.name)}`;
    source.atValue(ref.path, message, hint === undefined ? undefined : `$${hint}`);
  }
}

function paramSchema(info: TrainerInfo, name: string): Schema | undefined {
  const props = info.params.properties as Record<string, Schema>;
  return Object.prototype.hasOwnProperty.call(props, name) ? props[name] : undefined;
}

/** Every `$name` a candidate's layers use, with where it is written. */
function layerRefs(c: CandidateSpec, base: Path): { name: string; path: Path }[] {
  const refs: { name: string; path: Path }[] = [];
  (c.layers ?? []).forEach((layer, j) => {
    for (const [kind, args] of Object.entries(layer)) {
      for (const [arg, value] of Object.entries(args as Record<string, unknown>)) {
        if (typeof value === 'string' && value.startsWith('$')) {
          refs.push({ name: value.slice(1), path: [...base, 'layers', j, kind, arg] });
        }
      }
    }
  });
  return refs;
}

/** One parameter's search space: values of the right type, ranges that are not empty. */
function checkSpace(
  ctx: CheckContext,
  path: Path,
  space: ParamSpace,
  schema: Schema | undefined,
  type: ParamType,
): void {
  const { source, validate, spec } = ctx;
  const at = nodeAt(source.doc, path);
  if (Array.isArray(space)) {
    if (!schema) return;
    const seq = at.value as { items?: unknown[] } | undefined;
    space.forEach((_, j) => checkNode(schema, seq?.items?.[j], [...path, j], validate, at.value));
    return;
  }
  if (!isRange(space) && !isLogRange(space)) {
    if (schema) checkNode(schema, at.value, path, validate, at.key);
    return;
  }
  const key = isRange(space) ? 'range' : 'logRange';
  const [lo, hi] = isRange(space) ? space.range : space.logRange;
  if (type === 'other') {
    source.atKey([...path, key], `parameter is not numeric, so it takes a list of values, not a "${key}"`);
    return;
  }
  if (lo > hi) {
    source.atValue([...path, key], `${key} [${lo}, ${hi}] is empty: its low end is above its high end`);
    return;
  }
  if (schema) {
    // A log range of an integer parameter is rounded, so only its bounds must hold.
    const endSchema: Schema = key === 'logRange' ? { ...schema, type: 'number' } : schema;
    const ends = nodeAt(source.doc, [...path, key]).value as { items?: unknown[] } | undefined;
    if (!checkNode(endSchema, ends?.items?.[0], [...path, key, 0], validate)) return;
    if (!checkNode(endSchema, ends?.items?.[1], [...path, key, 1], validate)) return;
  }
  if (isRange(space) && space.step !== undefined && space.num !== undefined) {
    source.atKey([...path, 'num'], 'give either "step" or "num", not both: each sets the points a grid takes');
    return;
  }
  if (isRange(space) && type === 'integer' && space.step !== undefined && !Number.isInteger(space.step)) {
    source.atValue(
      [...path, 'step'],
      `the parameter takes integers, so step must be a whole number, got ${space.step}`,
    );
    return;
  }
  const strategy = spec.search?.strategy ?? 'grid';
  if (strategy !== 'grid') return;
  const count = gridPointCount(space, type);
  if (!Number.isFinite(count)) {
    source.atKey([...path, key], 'a range of floats needs "step" or "num" under grid search (or use strategy: random)');
  } else if (count > MAX_POINTS_PER_PARAM) {
    source.atValue(
      [...path, key],
      `this range gives ${count} grid points; at most ${MAX_POINTS_PER_PARAM} per parameter`,
    );
  }
}
