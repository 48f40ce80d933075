/**
 * Structural validation: walks a JSON Schema (from schema.ts) and the YAML nodes together, so
 * each problem is reported at the node that has it — an unknown key at the key, a wrong value
 * at the value, a missing key at the mapping that lacks it.
 *
 * Unions are resolved before descending (by the node's shape, then by a mapping's keys) so a
 * mistake inside one branch gives that branch's error, not one error per branch.
 */
import { isScalar, type Document, type Node, type YAMLMap, type YAMLSeq } from 'yaml';
import { deref, pickObjectBranch, type Schema } from './json-like';
import { keyString, resolveNode, type Anchor, type Path, type Reporter } from './source';
import { suggest } from './suggest';
import { describe, expected, shapeOf, type Shape } from './words';

export interface ValidateContext {
  readonly doc: Document;
  readonly refs: ReadonlyMap<string, Schema>;
  readonly report: Reporter;
}

/** Human phrases for the patterns in schema.ts; any other pattern is shown as a regex. */
const PATTERN_PHRASES: Readonly<Record<string, string>> = {
  '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$':
    'a name of lowercase letters, digits and dashes that starts and ends with a letter or digit (at most 63)',
  '^[0-9]+(\\.[0-9]+)?\\s*(Ki|Mi|Gi|Ti|KB|MB|GB|TB|B|k|M|G)?$': 'a size such as 512Mi, 2Gi, 1GB, or a number of MiB',
  '^[0-9]+(\\.[0-9]+)?(us|ms|s)$': 'a duration such as 250ms, 1.5s or 800us',
};

/** Validates `node` against `schema`; reports through ctx and returns whether it is valid. */
export function checkNode(schema: Schema, raw: unknown, path: Path, ctx: ValidateContext, fallback?: Anchor): boolean {
  const s = deref(schema, ctx.refs);
  const node = resolveNode(raw, ctx.doc);
  if (s.anyOf) return checkUnion(s, s.anyOf, node, path, ctx, fallback);
  if (s.const !== undefined) return checkEnum([s.const], node, path, ctx, fallback);
  const shape = shapeOf(node);
  if (!accepts(s, shape, ctx)) {
    ctx.report.at(node, path, `expected ${expected(s, ctx)}, got ${describe(node)}`, undefined, fallback);
    return false;
  }
  if (s.type === 'object') return checkObject(s, node as YAMLMap, path, ctx);
  if (s.type === 'array') return checkArray(s, node as YAMLSeq, path, ctx);
  return checkScalar(s, node!, path, ctx);
}

function checkUnion(
  s: Schema,
  branches: readonly Schema[],
  node: Node | undefined,
  path: Path,
  ctx: ValidateContext,
  fallback: Anchor,
): boolean {
  const all = branches.map((b) => deref(b, ctx.refs));
  if (all.every((b) => b.const !== undefined))
    return checkEnum(
      all.map((b) => b.const),
      node,
      path,
      ctx,
      fallback,
    );
  const shape = shapeOf(node);
  const fitting = all.filter((b) => accepts(b, shape, ctx));
  if (fitting.length === 0) {
    ctx.report.at(node, path, `expected ${expected(s, ctx)}, got ${describe(node)}`, undefined, fallback);
    return false;
  }
  if (shape === 'map' && fitting.length > 1) {
    const map = node as YAMLMap;
    const keys = map.items.map((p) => keyString(p, ctx.doc) ?? '');
    const branch = pickObjectBranch(fitting, keys);
    if (branch) return checkBranch(branch, fitting, map, keys, path, ctx, fallback);
    // Name the keys that tell the branches apart (their required ones), each once.
    const names = [...new Set(fitting.flatMap((b) => b.required ?? Object.keys(b.properties ?? {})))];
    const first = map.items[0];
    const firstKey = keys[0];
    if (first && firstKey !== undefined) {
      const message = `unknown key ${JSON.stringify(firstKey)}; expected one of ${names.join(', ')}`;
      ctx.report.at(resolveNode(first.key, ctx.doc), [...path, firstKey], message, suggest(firstKey, names), map);
    } else {
      ctx.report.at(map, path, `expected one of the keys ${names.join(', ')}`, undefined, fallback);
    }
    return false;
  }
  // Scalars and lists: take the first branch that fits quietly, else report the first's errors.
  const quiet: ValidateContext = { ...ctx, report: { at: () => undefined } };
  if (fitting.length > 1 && fitting.some((b) => checkNode(b, node, path, quiet, fallback))) return true;
  return checkNode(fitting[0]!, node, path, ctx, fallback);
}

/**
 * One item of a one-key-per-item list (transforms, layers, splits) holding a second item's
 * key — a missing "- " — is reported as that, once, instead of as an unknown key.
 */
function checkBranch(
  branch: Schema,
  fitting: readonly Schema[],
  map: YAMLMap,
  keys: readonly string[],
  path: Path,
  ctx: ValidateContext,
  fallback: Anchor,
): boolean {
  const own = Object.keys(branch.properties ?? {});
  const oneKeyItems = fitting.every((b) => Object.keys(b.properties ?? {}).length === 1);
  const isOtherItem = (k: string): boolean => !own.includes(k) && fitting.some((b) => b.properties?.[k] !== undefined);
  if (!oneKeyItems || !keys.some(isOtherItem)) return checkNode(branch, map, path, ctx, fallback);
  map.items.forEach((pair, i) => {
    const key = keys[i]!;
    const keyNode = resolveNode(pair.key, ctx.doc);
    if (isOtherItem(key)) {
      const message = `${JSON.stringify(key)} starts another item: each item takes one key (write "- ${key}:")`;
      ctx.report.at(keyNode, [...path, key], message, undefined, map);
    } else if (own.includes(key)) {
      checkNode(branch.properties![key]!, pair.value, [...path, key], ctx, keyNode);
    }
  });
  return false;
}

function checkEnum(
  values: readonly unknown[],
  node: Node | undefined,
  path: Path,
  ctx: ValidateContext,
  fallback: Anchor,
): boolean {
  const value = isScalar(node) ? node.value : undefined;
  if (values.includes(value)) return true;
  const list = values.map((v) => JSON.stringify(v)).join(', ');
  const wanted = values.length === 1 ? list : `one of ${list}`;
  const got = isScalar(node) && node.value !== null ? JSON.stringify(node.value) : describe(node);
  const hint = typeof value === 'string' && values.length > 1 ? suggest(value, values.map(String)) : undefined;
  ctx.report.at(node, path, `expected ${wanted}, got ${got}`, hint, fallback);
  return false;
}

function checkObject(s: Schema, map: YAMLMap, path: Path, ctx: ValidateContext): boolean {
  const props = s.properties ?? {};
  const present = new Map<string, number>();
  map.items.forEach((p, i) => {
    const k = keyString(p, ctx.doc);
    if (k !== undefined) present.set(k, i);
  });
  let ok = true;
  const misplaced = findMisplacedKeys(s, map, present, ctx);
  const claimed = new Set<string>(); // required keys an unknown key probably meant
  for (const pair of map.items) {
    if (ctx.report.full) return false;
    const key = keyString(pair, ctx.doc);
    const keyNode = resolveNode(pair.key, ctx.doc);
    if (key === undefined) {
      ctx.report.at(keyNode, path, 'keys must be plain strings', undefined, map);
      ok = false;
      continue;
    }
    const misplacedUnder = misplaced.get(key);
    if (misplacedUnder !== undefined) {
      const message = `${JSON.stringify(key)} belongs under ${JSON.stringify(misplacedUnder)}: indent it further`;
      ctx.report.at(keyNode, [...path, key], message, undefined, map);
      ok = false;
      continue;
    }
    if ([...misplaced.values()].includes(key)) continue; // reported once, at the misplaced key
    const sub = Object.prototype.hasOwnProperty.call(props, key) ? props[key] : patternSchema(s, key);
    if (sub) {
      ok = checkNode(sub, pair.value, [...path, key], ctx, keyNode) && ok;
      continue;
    }
    if (s.additionalProperties !== false) continue;
    const hint = suggest(
      key,
      Object.keys(props).filter((k) => !present.has(k)),
    );
    if (hint !== undefined) claimed.add(hint);
    ctx.report.at(keyNode, [...path, key], `unknown key ${JSON.stringify(key)}`, hint, map);
    ok = false;
  }
  for (const req of s.required ?? []) {
    if (present.has(req) || claimed.has(req) || props[req]?.default !== undefined) continue;
    ctx.report.at(map, [...path, req], `missing required key ${JSON.stringify(req)}`);
    ok = false;
  }
  return ok;
}

/**
 * Keys written one level too shallow: `- oneHot:` followed by `columns:` at the same indent
 * parses as an empty `oneHot` beside an unknown `columns`. Reported once, as what it is.
 * Returns misplaced key → the key it belongs under.
 */
function findMisplacedKeys(s: Schema, map: YAMLMap, present: ReadonlyMap<string, number>, ctx: ValidateContext) {
  const out = new Map<string, string>();
  const props = s.properties ?? {};
  for (const pair of map.items) {
    const key = keyString(pair, ctx.doc);
    const value = resolveNode(pair.value, ctx.doc);
    if (key === undefined || !props[key] || !(value === undefined || (isScalar(value) && value.value === null)))
      continue;
    const inner = deref(props[key], ctx.refs);
    const innerProps = inner.properties ?? {};
    for (const other of present.keys()) {
      if (
        !Object.prototype.hasOwnProperty.call(props, other) &&
        Object.prototype.hasOwnProperty.call(innerProps, other)
      ) {
        out.set(other, key);
      }
    }
  }
  return out;
}

function patternSchema(s: Schema, key: string): Schema | undefined {
  for (const [pattern, sub] of Object.entries(s.patternProperties ?? {})) {
    if (new RegExp(pattern, 'u').test(key)) return sub;
  }
  if (typeof s.additionalProperties === 'object') return s.additionalProperties;
  return undefined;
}

function checkArray(s: Schema, seq: YAMLSeq, path: Path, ctx: ValidateContext): boolean {
  const n = seq.items.length;
  if (Array.isArray(s.items)) {
    const tuple = s.items as readonly Schema[];
    if (n !== tuple.length) {
      ctx.report.at(seq, path, `expected ${expected(s, ctx)}, got ${n} item${n === 1 ? '' : 's'}`);
      return false;
    }
    return tuple.map((item, i) => checkNode(item, seq.items[i], [...path, i], ctx, seq)).every(Boolean);
  }
  if (s.minItems !== undefined && n < s.minItems) {
    const message = s.minItems === 1 ? 'must not be empty' : `needs at least ${s.minItems} items, got ${n}`;
    ctx.report.at(seq, path, message);
    return false;
  }
  if (s.maxItems !== undefined && n > s.maxItems) {
    ctx.report.at(seq, path, `takes at most ${s.maxItems} items, got ${n}`);
    return false;
  }
  const item = s.items as Schema | undefined;
  if (!item) return true;
  let ok = true;
  for (let i = 0; i < n && !ctx.report.full; i++) ok = checkNode(item, seq.items[i], [...path, i], ctx, seq) && ok;
  return ok && !ctx.report.full;
}

function checkScalar(s: Schema, node: Node, path: Path, ctx: ValidateContext): boolean {
  const value = (node as { value?: unknown }).value;
  const fail = (message: string): boolean => {
    ctx.report.at(node, path, message);
    return false;
  };
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return fail(`expected a finite number, got ${describe(node)}`);
    if (s.type === 'integer' && !Number.isInteger(value)) return fail(`expected an integer, got ${value}`);
    if (s.minimum !== undefined && value < s.minimum) return fail(`must be at least ${s.minimum}, got ${value}`);
    if (s.exclusiveMinimum !== undefined && value <= s.exclusiveMinimum) {
      return fail(`must be greater than ${s.exclusiveMinimum}, got ${value}`);
    }
    if (s.maximum !== undefined && value > s.maximum) return fail(`must be at most ${s.maximum}, got ${value}`);
    if (s.exclusiveMaximum !== undefined && value >= s.exclusiveMaximum) {
      return fail(`must be less than ${s.exclusiveMaximum}, got ${value}`);
    }
  }
  if (typeof value === 'string') {
    if (s.minLength !== undefined && value.length < s.minLength) {
      return fail(s.minLength === 1 ? 'must not be empty' : `must be at least ${s.minLength} characters long`);
    }
    if (s.maxLength !== undefined && value.length > s.maxLength)
      return fail(`must be at most ${s.maxLength} characters long`);
    if (s.pattern !== undefined && !new RegExp(s.pattern, 'u').test(value)) {
      return fail(`${JSON.stringify(value)} is not ${PATTERN_PHRASES[s.pattern] ?? `a match for /${s.pattern}/`}`);
    }
  }
  return true;
}

function accepts(schema: Schema, shape: Shape, ctx: ValidateContext): boolean {
  const s = deref(schema, ctx.refs);
  if (s.anyOf) return s.anyOf.some((b) => accepts(b, shape, ctx));
  if (s.const !== undefined) return shape === typeof s.const;
  switch (s.type) {
    case 'object':
      return shape === 'map';
    case 'array':
      return shape === 'seq';
    case 'integer':
      return shape === 'number';
    default:
      return s.type === shape;
  }
}
