/**
 * Defaults: the values a spec means when it leaves a field out. They are read from the
 * `default` keywords in schema.ts, so the JSON Schema editors see and the loaded spec agree.
 */
import { METRICS, type MetricName } from '../trainers/catalog';
import { deref, pickObjectBranch, type Schema } from './json-like';
import { type PipelineSpec } from './schema';

/**
 * Whether a metric is better high or low. Catalog metrics come from METRICS; per-epoch names
 * such as `val_loss` or `val_accuracy` look up their base name, and losses/errors minimize.
 */
export function defaultGoal(metric: string): 'maximize' | 'minimize' {
  const base = metric.replace(/^val_/, '');
  const known = METRICS[base as MetricName];
  if (known) return known.goal;
  return /(loss|error|mse|mae)$/i.test(base) ? 'minimize' : 'maximize';
}

/** Fills `default`s of optional-in-practice fields into a copy of a structurally valid value. */
export function withSchemaDefaults(schema: Schema, value: unknown, refs: ReadonlyMap<string, Schema>): unknown {
  const s = deref(schema, refs);
  if (s.anyOf) {
    // Only object unions carry nested defaults; pick the branch the value's keys select.
    if (!isPlainObject(value)) return value;
    const branch = pickObjectBranch(
      s.anyOf.map((b) => deref(b, refs)),
      Object.keys(value),
    );
    return branch ? withSchemaDefaults(branch, value, refs) : value;
  }
  if (s.type === 'object' && isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const sub = s.properties?.[k] ?? Object.values(s.patternProperties ?? {})[0];
      out[k] = sub ? withSchemaDefaults(sub, v, refs) : v;
    }
    for (const [k, sub] of Object.entries(s.properties ?? {})) {
      if (out[k] === undefined && sub.default !== undefined) out[k] = structuredClone(sub.default);
    }
    return out;
  }
  if (s.type === 'array' && Array.isArray(value) && !Array.isArray(s.items) && s.items) {
    const item = s.items as Schema;
    return value.map((v) => withSchemaDefaults(item, v, refs));
  }
  return value;
}

/** The spec with every default filled in: schema defaults, grid search, the metric's goal. */
export function applyDefaults(spec: PipelineSpec, schema: Schema, refs: ReadonlyMap<string, Schema>): PipelineSpec {
  const out = withSchemaDefaults(schema, spec, refs) as PipelineSpec;
  // `search` itself is optional; filling it in makes "grid" explicit for every consumer.
  out.search = (withSchemaDefaults((schema.properties?.search ?? {}) as Schema, out.search ?? {}, refs) ??
    {}) as PipelineSpec['search'];
  out.selection = { ...out.selection, goal: out.selection.goal ?? defaultGoal(out.selection.metric) };
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
