/**
 * The pipeline language: YAML text in, a typed spec with defaults (or located diagnostics) out.
 *
 * Checks run in phases — YAML syntax, then structure (schema.ts), then meaning (catalog,
 * metrics, expressions, columns) — and a phase runs only when the one before it passed: the
 * later checks read typed values, and a broken structure would only echo as more errors.
 */
import { createHash } from 'node:crypto';
import { isMap } from 'yaml';
import { type ColumnInfo } from '../data/types';
import { checkColumns } from './columns';
import { type CheckContext } from './context';
import { applyDefaults } from './defaults';
import { SpecError, type SpecDiagnostic } from './errors';
import { checkExpressions } from './expressions';
import { asSchema, type Schema } from './json-like';
import { parseYaml } from './parse';
import { PipelineSpec, referencedSchemas } from './schema';
import { checkSemantics } from './semantic';
import { MAX_DIAGNOSTICS, type SpecSource } from './source';
import { checkNode, type ValidateContext } from './validate';
import { describe } from './words';

export * from './schema';
export { SpecError, formatDiagnostic, type SpecDiagnostic } from './errors';
export { defaultGoal } from './defaults';
export { expandSearchSpace, type TrialPlan } from './search-space';
export { parseQuantityMiB, parseSizeBytes, parseDurationMs } from './quantities';
export { pipelineJsonSchema, pipelineJsonSchemaText } from './json-schema';
export { MAX_SPEC_BYTES } from './parse';
export { suggest } from './suggest';

export interface LoadedSpec {
  /** The spec with defaults applied. */
  spec: PipelineSpec;
  file: string;
  text: string;
  /** sha256 (hex) of the canonical JSON of `spec`: equal for specs that mean the same. */
  hash: string;
}

export interface CheckOptions {
  /** The data set's columns; when given, every column the spec names must exist. */
  columns?: readonly ColumnInfo[];
  /** The cluster's tier names; when given, `selection.qos.tier` must be one of them. */
  tiers?: readonly string[];
}

const REFS: ReadonlyMap<string, Schema> = new Map(referencedSchemas.map((s) => [String(s.$id), asSchema(s)]));

/** Checks a spec; never throws. `spec` is set exactly when there are no diagnostics. */
export function checkSpec(
  text: string,
  file: string,
  opts: CheckOptions = {},
): { spec?: LoadedSpec; diagnostics: SpecDiagnostic[] } {
  try {
    return runChecks(text, file, opts);
  } catch (e) {
    // A bug in a check must not take the caller (an API handler) down with it.
    const message = `internal error while checking the spec: ${(e as Error)?.message ?? String(e)}`;
    return { diagnostics: [{ file, line: 1, column: 1, field: '', message, suggestion: '' }] };
  }
}

/** Loads a spec or throws SpecError listing every diagnostic. */
export function parseSpec(text: string, file: string, opts: CheckOptions = {}): LoadedSpec {
  const { spec, diagnostics } = checkSpec(text, file, opts);
  if (!spec) throw new SpecError(diagnostics);
  return spec;
}

function runChecks(
  text: string,
  file: string,
  opts: CheckOptions,
): { spec?: LoadedSpec; diagnostics: SpecDiagnostic[] } {
  const parsed = parseYaml(text, file);
  if (!('value' in parsed)) return { diagnostics: parsed.source ? finish(parsed.source) : parsed.diagnostics };
  const { source } = parsed;
  const root = source.doc.contents;
  if (!isMap(root)) {
    const message = `a pipeline spec is a mapping (apiVersion: stratum/v1, kind: Pipeline, …), got ${describe(root ?? undefined)}`;
    source.at(root, [], message);
    return { diagnostics: finish(source) };
  }
  const validate: ValidateContext = { doc: source.doc, refs: REFS, report: source };
  if (!checkNode(asSchema(PipelineSpec), root, [], validate)) return { diagnostics: finish(source) };

  const ctx: CheckContext = { spec: parsed.value as PipelineSpec, source, validate, tiers: opts.tiers };
  checkSemantics(ctx);
  const expressions = checkExpressions(ctx);
  if (opts.columns) checkColumns(ctx, opts.columns, expressions);
  if (source.diagnostics.length > 0) return { diagnostics: finish(source) };

  const spec = applyDefaults(ctx.spec, asSchema(PipelineSpec), REFS);
  const hash = createHash('sha256').update(canonicalJson(spec)).digest('hex');
  return { spec: { spec, file, text, hash }, diagnostics: [] };
}

/** The diagnostics in file order, and a last line counting those past the limit. */
function finish(source: SpecSource): SpecDiagnostic[] {
  const ds = source.diagnostics.slice().sort((a, b) => a.line - b.line || a.column - b.column);
  if (source.full) {
    // Checks stop looking once the list is full, so how many more there are is not known.
    const last = ds[ds.length - 1]!;
    const message = `further problems not shown: at most ${MAX_DIAGNOSTICS} are listed`;
    ds.push({ file: source.file, line: last.line, column: last.column, field: '', message, suggestion: '' });
  }
  return ds;
}

/** JSON with object keys sorted at every level: the same value always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
