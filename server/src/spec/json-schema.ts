/**
 * The JSON Schema (draft 2020-12) that editors use for completion and inline errors, built
 * from schema.ts. A test compares it with the committed `server/schema/pipeline.schema.json`,
 * so the file cannot drift from the code (`UPDATE_SCHEMA=1 npx jest server/src/spec/json-schema`
 * rewrites it).
 */
import { PipelineSpec, referencedSchemas } from './schema';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const DRAFT = 'https://json-schema.org/draft/2020-12/schema';

/** The schema document: the pipeline at the root, `$ref`-ed schemas under `$defs`. */
export function pipelineJsonSchema(): Record<string, Json> {
  const ids = new Set(referencedSchemas.map((s) => String(s.$id)));
  const $defs: Record<string, Json> = {};
  for (const s of referencedSchemas) {
    const { $id, ...rest } = toJson(s) as Record<string, Json>;
    $defs[String($id)] = convert(rest, ids);
  }
  const { $id, title, ...root } = toJson(PipelineSpec) as Record<string, Json>;
  const body = convert(root, ids) as Record<string, Json> & { properties: Record<string, Record<string, Json>> };
  for (const [key, description] of Object.entries(FIELD_DESCRIPTIONS)) {
    const prop = body.properties[key];
    if (prop && prop.description === undefined) body.properties[key] = { description, ...prop };
  }
  return {
    $schema: DRAFT,
    $id: $id ?? null,
    title: title ?? null,
    description:
      'A Stratum pipeline: the data, the candidate models and their search spaces, how the best model is chosen, ' +
      'and optionally how it is deployed. Fields with a default may be left out.',
    ...body,
    $defs,
  };
}

/** Editor hover text for the top-level fields (schema.ts describes the nested ones). */
const FIELD_DESCRIPTIONS: Readonly<Record<string, string>> = {
  apiVersion: 'Version of the pipeline language: stratum/v1.',
  kind: 'Always Pipeline.',
  metadata: 'Name (a DNS label), description and labels of the pipeline.',
  data: 'Where the data set comes from.',
  target: 'The column to predict.',
  features: 'Columns used as inputs (after transforms); all other columns when absent.',
  transforms: 'Steps applied in order before training; each item has exactly one key.',
  split: 'How rows are split for evaluation: a holdout fraction or k folds.',
  task: 'classification or regression.',
  models: 'Candidate models: a trainer from the catalog, its hyper-parameter search space, layers (tfjs).',
  search: 'How search spaces become trials: grid (default) or random, with an optional cap.',
  selection: 'The metric that picks the best trial, its goal (from the metric by default) and constraints.',
  resources: 'Resources each trial needs (a candidate may override them).',
  earlyStopping: 'Stops unpromising trials of trainers that report per-epoch metrics.',
  seed: 'Seed for splits, sampling and training; the same seed gives the same run.',
  deploy: 'Where and how the chosen model is served.',
};

/** The document as the committed file holds it. */
export function pipelineJsonSchemaText(): string {
  return `${JSON.stringify(pipelineJsonSchema(), null, 2)}\n`;
}

/** TypeBox schemas are JSON plus symbol-keyed metadata, which a JSON round trip drops. */
function toJson(schema: unknown): Json {
  return JSON.parse(JSON.stringify(schema)) as Json;
}

/**
 * Draft 2020-12 spellings: `$ref` to `#/$defs/…`, tuples as `prefixItems`, and fields with a
 * default no longer `required` (the loader fills them in, so a spec may omit them).
 */
function convert(node: Json, ids: ReadonlySet<string>): Json {
  if (Array.isArray(node)) return node.map((n) => convert(n, ids));
  if (node === null || typeof node !== 'object') return node;
  const out: Record<string, Json> = {};
  // A referenced schema also used inline becomes a reference: one $id, defined once.
  if (typeof node.$id === 'string' && ids.has(node.$id)) return { $ref: `#/$defs/${node.$id}` };
  for (const [k, v] of Object.entries(node)) out[k] = convert(v, ids);
  if (typeof out.$ref === 'string' && ids.has(out.$ref)) out.$ref = `#/$defs/${out.$ref}`;
  if (Array.isArray(out.items)) {
    out.prefixItems = out.items;
    out.items = false;
    delete out.additionalItems;
  }
  const props = out.properties;
  if (Array.isArray(out.required) && props && typeof props === 'object' && !Array.isArray(props)) {
    const required = out.required.filter((k) => {
      const p = props[String(k)];
      return !(p && typeof p === 'object' && !Array.isArray(p) && 'default' in p);
    });
    if (required.length > 0) out.required = required;
    else delete out.required;
  }
  return out;
}
