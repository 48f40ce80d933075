/**
 * Nodes and schemas in words, for messages: "expected an integer, got the string \"x\"".
 */
import { isMap, isScalar, isSeq, type Node } from 'yaml';
import { deref, type Schema } from './json-like';
import { DURATION_PATTERN } from './schema';

export type Shape = 'map' | 'seq' | 'string' | 'number' | 'boolean' | 'null' | 'other';

/** The kind of YAML value a node holds (aliases already resolved). */
export function shapeOf(node: Node | undefined): Shape {
  if (node === undefined) return 'null';
  if (isMap(node)) return 'map';
  if (isSeq(node)) return 'seq';
  if (!isScalar(node)) return 'other';
  const v = node.value;
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string' || typeof v === 'boolean') return typeof v as Shape;
  if (typeof v === 'number') return 'number';
  return 'other';
}

/** What a schema wants, in words: "a mapping", "an integer", "a number or a string". */
export function expected(schema: Schema, ctx: { readonly refs: ReadonlyMap<string, Schema> }): string {
  const s = deref(schema, ctx.refs);
  if (s.anyOf) return oneOf([...new Set(alternatives(s, ctx))]);
  if (s.const !== undefined) return JSON.stringify(s.const);
  switch (s.type) {
    case 'object':
      return 'a mapping';
    case 'array':
      return Array.isArray(s.items) ? `a list of ${s.items.length} numbers [low, high]` : 'a list';
    case 'integer':
      return 'an integer';
    case 'boolean':
      return 'true or false';
    case 'string':
      // A bare number where a duration belongs is the common mistake: name the unit it lacks.
      return s.pattern === DURATION_PATTERN ? 'a duration with a unit (250ms, 1.5s, 800us)' : 'a string';
    default:
      return `a ${s.type ?? 'value'}`;
  }
}

/** What the YAML has, in words: "a mapping", "the string \"x\"", "nothing". */
export function describe(node: Node | undefined): string {
  const shape = shapeOf(node);
  if (shape === 'map') return 'a mapping';
  if (shape === 'seq') return 'a list';
  if (shape === 'null') return 'nothing';
  if (shape === 'other') return 'an unsupported value';
  const v = (node as { value: unknown; source?: string }).value;
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 37)}...` : v)}`;
  if (typeof v === 'number' && !Number.isFinite(v)) return (node as { source?: string }).source ?? String(v);
  return String(v);
}

/** "a", "a or b", "a, b or c". */
function oneOf(items: readonly string[]): string {
  return items.length <= 2 ? items.join(' or ') : `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}

/** The phrases of a union's branches, nested unions flattened. */
function alternatives(schema: Schema, ctx: { readonly refs: ReadonlyMap<string, Schema> }): string[] {
  const s = deref(schema, ctx.refs);
  return s.anyOf ? s.anyOf.flatMap((b) => alternatives(b, ctx)) : [expected(s, ctx)];
}
