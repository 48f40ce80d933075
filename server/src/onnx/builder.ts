/**
 * A small ONNX graph builder over onnx-proto: nodes, initializers, graph inputs/outputs,
 * opset imports (the ONNX-ML domain only when a node uses it) and metadata, encoded to the
 * protobuf bytes onnxruntime loads. Names are unique per graph; converters ask for a name by
 * a readable hint and get back the one actually used.
 */
import { onnx } from 'onnx-proto';

export const ELEMENT = onnx.TensorProto.DataType;

/** The default-domain opset every Stratum export targets. */
export const OPSET = 17;
/** The ONNX-ML opset: version 3 has TreeEnsembleClassifier/Regressor without deprecation. */
export const ML_OPSET = 3;
export const ML_DOMAIN = 'ai.onnx.ml';
/** IR version 8 goes with opset 17 / ONNX-ML 3 (ONNX 1.12); it is also onnx-proto's newest. */
export const IR_VERSION = 8;

/** A node attribute without its name: build one with the `attr` helpers (or pass a string). */
export type AttrValue = Omit<onnx.IAttributeProto, 'name'>;

const A = onnx.AttributeProto.AttributeType;

export const attr = {
  int: (i: number): AttrValue => ({ type: A.INT, i }),
  float: (f: number): AttrValue => ({ type: A.FLOAT, f }),
  string: (s: string): AttrValue => ({ type: A.STRING, s: Buffer.from(s, 'utf8') }),
  ints: (ints: readonly number[]): AttrValue => ({ type: A.INTS, ints: [...ints] }),
  floats: (floats: ArrayLike<number>): AttrValue => ({ type: A.FLOATS, floats: Array.from(floats) }),
  strings: (strings: readonly string[]): AttrValue => ({
    type: A.STRINGS,
    strings: strings.map((s) => Buffer.from(s, 'utf8')),
  }),
  /** A 1-D float64 tensor attribute (the `*_as_tensor` attributes of ONNX-ML). */
  doubles: (values: ArrayLike<number>): AttrValue => ({
    type: A.TENSOR,
    t: { dataType: ELEMENT.DOUBLE, dims: [values.length], rawData: doubleBytes(values) },
  }),
};

/** A dimension: a fixed size, or a name for a size known only at run time (the batch). */
export type Dim = number | string;

function valueInfo(name: string, elemType: number, shape: readonly Dim[]): onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function doubleBytes(values: ArrayLike<number>): Uint8Array {
  const bytes = new Uint8Array(values.length * 8);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat64(i * 8, values[i]!, true);
  return bytes;
}

function floatBytes(values: ArrayLike<number>): Uint8Array {
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i]!, true);
  return bytes;
}

export interface EncodeOptions {
  readonly producerVersion?: string;
  readonly docString?: string;
  /** metadata_props, in insertion order. */
  readonly metadata?: Readonly<Record<string, string>>;
}

export class GraphBuilder {
  private readonly nodes: onnx.INodeProto[] = [];
  private readonly initializers: onnx.ITensorProto[] = [];
  private readonly inputs: onnx.IValueInfoProto[] = [];
  private readonly outputs: onnx.IValueInfoProto[] = [];
  private readonly names = new Set<string>();
  private readonly counters = new Map<string, number>();
  private usesMl = false;

  constructor(private readonly graphName: string) {}

  /** A fresh name: the hint itself the first time, then hint_1, hint_2, … */
  name(hint: string): string {
    let candidate = hint;
    while (this.names.has(candidate)) {
      const n = (this.counters.get(hint) ?? 0) + 1;
      this.counters.set(hint, n);
      candidate = `${hint}_${n}`;
    }
    this.names.add(candidate);
    return candidate;
  }

  input(name: string, elemType: number, shape: readonly Dim[]): string {
    this.reserve(name);
    this.inputs.push(valueInfo(name, elemType, shape));
    return name;
  }

  /** Declares a graph output; `name` must be produced by a node. */
  output(name: string, elemType: number, shape: readonly Dim[]): void {
    this.outputs.push(valueInfo(name, elemType, shape));
  }

  /** A float32 initializer; returns its (unique) name. */
  floats(hint: string, values: ArrayLike<number>, dims: readonly number[]): string {
    this.checkSize(hint, values.length, dims);
    const name = this.name(hint);
    this.initializers.push({ name, dataType: ELEMENT.FLOAT, dims: [...dims], rawData: floatBytes(values) });
    return name;
  }

  /** An int64 initializer (shapes, axes, indices). */
  int64s(hint: string, values: readonly number[], dims: readonly number[] = [values.length]): string {
    this.checkSize(hint, values.length, dims);
    const name = this.name(hint);
    this.initializers.push({ name, dataType: ELEMENT.INT64, dims: [...dims], int64Data: [...values] });
    return name;
  }

  /**
   * Adds a node and returns its output names. `outputs` are hints (made unique) unless
   * `exact` is set, for graph outputs whose names are part of the contract.
   */
  node(
    opType: string,
    inputs: readonly string[],
    outputs: readonly string[],
    attributes: Readonly<Record<string, AttrValue | string>> = {},
    options: { domain?: string; exact?: boolean } = {},
  ): string[] {
    const names = outputs.map((o) => (options.exact ? this.reserve(o) : this.name(o)));
    if (options.domain === ML_DOMAIN) this.usesMl = true;
    this.nodes.push({
      opType,
      input: [...inputs],
      output: names,
      name: this.name(`${opType}_node`),
      ...(options.domain ? { domain: options.domain } : {}),
      attribute: Object.entries(attributes).map(([name, value]) => ({
        name,
        ...(typeof value === 'string' ? attr.string(value) : value),
      })),
    });
    return names;
  }

  /** One-output node: the common case. */
  op(
    opType: string,
    inputs: readonly string[],
    attributes: Readonly<Record<string, AttrValue | string>> = {},
    hint: string = opType.toLowerCase(),
  ): string {
    return this.node(opType, inputs, [hint], attributes)[0]!;
  }

  encode(options: EncodeOptions = {}): Uint8Array {
    const opsetImport: onnx.IOperatorSetIdProto[] = [{ domain: '', version: OPSET }];
    if (this.usesMl) opsetImport.push({ domain: ML_DOMAIN, version: ML_OPSET });
    const model: onnx.IModelProto = {
      irVersion: IR_VERSION,
      opsetImport,
      producerName: 'stratum',
      ...(options.producerVersion ? { producerVersion: options.producerVersion } : {}),
      ...(options.docString ? { docString: options.docString } : {}),
      graph: {
        name: this.graphName,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
      metadataProps: Object.entries(options.metadata ?? {}).map(([key, value]) => ({ key, value })),
    };
    return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
  }

  private reserve(name: string): string {
    if (this.names.has(name)) throw new Error(`ONNX graph: the name "${name}" is already taken`);
    this.names.add(name);
    return name;
  }

  private checkSize(hint: string, length: number, dims: readonly number[]): void {
    const size = dims.reduce((a, b) => a * b, 1);
    if (size !== length) throw new Error(`ONNX initializer ${hint}: ${length} values for shape [${dims.join(', ')}]`);
  }
}
