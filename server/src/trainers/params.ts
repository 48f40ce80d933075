/**
 * Resolves one trial's hyper-parameters against the trainer catalog: the catalog schema is the
 * single source of defaults and types, so plugins never re-declare them.
 */
import type { TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { trainerInfo } from './catalog';
import { TrainerError } from './errors';

function describe(value: unknown): string {
  return typeof value === 'string' ? `"${value}"` : (JSON.stringify(value) ?? String(value));
}

/** TypeBox says "Expected union value" for a bad choice; name the choices instead. */
function expectation(schema: TSchema | undefined, message: string): string {
  const choices = ((schema?.anyOf ?? []) as TSchema[]).map((s) => s.const as unknown).filter((c) => c !== undefined);
  return choices.length > 0 ? `expected one of ${choices.map(describe).join(', ')}` : message.toLowerCase();
}

/**
 * Applies the catalog's defaults to `raw` (which is not mutated) and checks every value.
 * `T` is the plugin's view of its own catalog entry; the check is what makes that cast sound.
 * Throws `TrainerError` (code INVALID_PARAM, `param` naming the first offender; the message
 * lists all of them) or UNKNOWN_TRAINER.
 */
export function resolveParams<T extends object = Record<string, unknown>>(
  trainer: string,
  raw: Readonly<Record<string, unknown>>,
): T {
  const info = trainerInfo(trainer);
  if (!info) throw new TrainerError(trainer, 'not in the trainer catalog', { code: 'UNKNOWN_TRAINER' });
  const resolved: unknown = Value.Default(info.params, Value.Clone({ ...raw }));
  const problems: { param: string; text: string }[] = [];
  for (const error of Value.Errors(info.params, resolved)) {
    const param = error.path.split('/')[1] ?? '';
    // A union reports once for itself and again per branch; keep the first per param.
    if (problems.some((p) => p.param === param)) continue;
    const text =
      error.message === 'Unexpected property'
        ? `unknown param "${param}" (known: ${Object.keys(info.params.properties).join(', ')})`
        : `param "${param}": ${expectation(info.params.properties[param], error.message)}, got ${describe(error.value)}`;
    problems.push({ param, text });
  }
  const first = problems[0];
  if (first)
    throw new TrainerError(trainer, problems.map((p) => p.text).join('; '), {
      code: 'INVALID_PARAM',
      param: first.param,
    });
  return resolved as T;
}
