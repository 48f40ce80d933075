/**
 * Checks decoded request tensors against the model's signature, the same way for REST and
 * gRPC: names (unknown, duplicate, missing), datatype, shape (rank and fixed dimensions; -1
 * takes any size), element count, and finiteness. Every error names the tensor and the fault.
 */
import { closest } from '../data/expr-ast';
import { DATATYPES, elementCount, firstNonFinite, isDatatype } from './tensor-data';
import {
  invalid,
  type Datatype,
  type Limits,
  type RequestedOutput,
  type Tensor,
  type TensorData,
  type TensorSpec,
} from './types';

/** An input as the protocol carried it, before it is checked; `read` decodes its elements. */
export interface WireInput {
  readonly name: string;
  readonly datatype: string;
  readonly shape: readonly number[];
  readonly read: (datatype: Datatype, count: number, where: string) => TensorData;
}

export const formatSpec = (s: TensorSpec): string =>
  `"${s.name}" (${s.datatype} ${s.unknownRank ? 'of any shape' : `[${s.shape.join(',')}]`})`;

const names = (specs: readonly TensorSpec[]): string => specs.map(formatSpec).join(', ') || 'none';

function unknown(kind: 'input' | 'output', name: string, specs: readonly TensorSpec[]): Error {
  const hint = closest(
    name,
    specs.map((s) => s.name),
  );
  return invalid(
    `unknown ${kind} "${name}"${hint ? ` (did you mean "${hint}"?)` : ''}; the model's ${kind}s are ${names(specs)}`,
  );
}

/** A shape as JSON or protobuf gave it → dimensions, or an error naming the tensor. */
export function readShape(shape: unknown, where: string): number[] {
  const ok =
    Array.isArray(shape) &&
    shape.every(
      (d) =>
        (typeof d === 'number' && Number.isSafeInteger(d) && d >= 0) ||
        (typeof d === 'bigint' && d >= 0n && d <= BigInt(Number.MAX_SAFE_INTEGER)),
    );
  if (!ok)
    throw invalid(
      `${where}: "shape" must be a list of non-negative integers, got ${JSON.stringify(shape, (_, v: unknown) => (typeof v === 'bigint' ? String(v) : v)) ?? String(shape)}`,
    );
  return (shape as (number | bigint)[]).map(Number);
}

function checkShape(shape: readonly number[], spec: TensorSpec, where: string): void {
  if (spec.unknownRank) return;
  const mismatch = () =>
    invalid(
      `${where}: shape [${shape.join(',')}] does not match the model's [${spec.shape.join(',')}] (-1 takes any size)`,
    );
  if (shape.length !== spec.shape.length) throw mismatch();
  spec.shape.forEach((d, i) => {
    if (d >= 0 && shape[i] !== d) throw mismatch();
  });
}

export function resolveInputs(
  wire: readonly WireInput[],
  specs: readonly TensorSpec[],
  limits: Pick<Limits, 'allowNonFinite'>,
): Tensor[] {
  if (wire.length === 0) throw invalid(`the request has no inputs; the model takes ${names(specs)}`);
  const seen = new Set<string>();
  const tensors = wire.map((w): Tensor => {
    const where = `input "${w.name}"`;
    const spec = specs.find((s) => s.name === w.name);
    if (!spec) throw unknown('input', w.name, specs);
    if (seen.has(w.name)) throw invalid(`${where} appears more than once`);
    seen.add(w.name);
    if (!isDatatype(w.datatype)) {
      throw invalid(
        `${where}: unknown datatype "${w.datatype}"; OIP datatypes are ${Object.keys(DATATYPES).join(', ')}`,
      );
    }
    if (w.datatype !== spec.datatype)
      throw invalid(`${where} has datatype ${w.datatype}, but the model takes ${spec.datatype}`);
    checkShape(w.shape, spec, where);
    const data = w.read(w.datatype, elementCount(w.shape), where);
    if (!limits.allowNonFinite) {
      const bad = firstNonFinite(w.datatype, data);
      if (bad >= 0)
        throw invalid(`${where}: element ${bad} is not a finite number (NaN or ±Infinity), which this replica refuses`);
    }
    return { name: w.name, datatype: w.datatype, shape: w.shape, data };
  });
  const missing = specs.filter((s) => !seen.has(s.name));
  if (missing.length > 0) throw invalid(`missing input ${names(missing)}; the model takes ${names(specs)}`);
  return tensors;
}

/** The outputs to compute: those asked for (each checked), or every tensor output of the model. */
export function resolveOutputs(
  asked: readonly RequestedOutput[] | undefined,
  specs: readonly TensorSpec[],
  binaryByDefault: boolean,
): RequestedOutput[] {
  const servable = specs.filter((s) => isDatatype(s.datatype));
  if (!asked || asked.length === 0) return servable.map((s) => ({ name: s.name, binary: binaryByDefault }));
  const seen = new Set<string>();
  return asked.map((o) => {
    const spec = specs.find((s) => s.name === o.name);
    if (!spec) throw unknown('output', o.name, servable);
    if (!isDatatype(spec.datatype)) {
      throw invalid(
        `output "${o.name}" is a ${spec.datatype}, which the Open Inference Protocol cannot carry; ask for ${names(servable)}`,
      );
    }
    if (seen.has(o.name)) throw invalid(`output "${o.name}" is requested more than once`);
    seen.add(o.name);
    return o;
  });
}
