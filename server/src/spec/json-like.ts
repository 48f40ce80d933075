/**
 * The JSON Schema keywords the validator and the defaults walker read. TypeBox schemas are
 * plain JSON Schema objects, so both walk them directly instead of TypeBox's Kind symbols.
 */
import { type TSchema } from '@sinclair/typebox';

export interface Schema {
  readonly type?: string;
  readonly const?: unknown;
  readonly anyOf?: readonly Schema[];
  readonly $ref?: string;
  readonly $id?: string;
  readonly properties?: Readonly<Record<string, Schema>>;
  readonly required?: readonly string[];
  readonly additionalProperties?: boolean | Schema;
  readonly patternProperties?: Readonly<Record<string, Schema>>;
  readonly items?: Schema | readonly Schema[];
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly exclusiveMinimum?: number;
  readonly exclusiveMaximum?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly pattern?: string;
  readonly default?: unknown;
  readonly description?: string;
}

export const asSchema = (s: TSchema): Schema => s as unknown as Schema;

/** Resolves `$ref` against the referenced schemas (by `$id`). */
export function deref(schema: Schema, refs: ReadonlyMap<string, Schema>): Schema {
  let s = schema;
  for (let hops = 0; s.$ref !== undefined && hops < 8; hops++) {
    const target = refs.get(s.$ref);
    if (!target) throw new Error(`schema $ref ${s.$ref} has no target`);
    s = target;
  }
  return s;
}

/**
 * The object branch a mapping with `keys` belongs to: the one sharing the most keys with it
 * (transforms, layers and splits are told apart by their single key; `range` vs `logRange` too).
 * On a tie the branch of the key written first wins.
 */
export function pickObjectBranch(branches: readonly Schema[], keys: readonly string[]): Schema | undefined {
  let best: Schema | undefined;
  let bestScore = 0;
  let bestFirst = Infinity;
  for (const b of branches) {
    const props = b.properties ?? {};
    const shared = keys.map((k, i) => (Object.prototype.hasOwnProperty.call(props, k) ? i : -1)).filter((i) => i >= 0);
    const first = shared[0] ?? Infinity;
    if (shared.length > bestScore || (shared.length === bestScore && shared.length > 0 && first < bestFirst)) {
      best = b;
      bestScore = shared.length;
      bestFirst = first;
    }
  }
  return best;
}
