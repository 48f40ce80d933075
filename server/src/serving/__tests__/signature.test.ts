import { readFileSync } from 'node:fs';
import { onnx } from 'onnx-proto';

import { OnnxFormatError, readOnnxSignature } from '../../onnx/signature';
import { sklearnFixture, tinyModel, withMetadata } from './fixtures';

function thrown(f: () => unknown): OnnxFormatError {
  try {
    f();
  } catch (e) {
    if (e instanceof OnnxFormatError) return e;
    throw e;
  }
  throw new Error('did not throw');
}

describe('readOnnxSignature', () => {
  it('reads the tiny graph: OIP datatypes, -1 for the symbolic batch dimension, opset, producer', () => {
    const sig = readOnnxSignature(tinyModel());
    expect(sig).toEqual({
      inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 4] }],
      outputs: [{ name: 'probabilities', datatype: 'FP32', shape: [-1, 3] }],
      opset: 13,
      producer: 'stratum-test 1',
      metadata: {},
    });
  });

  it('reads a scikit-learn export (string labels as BYTES, ai.onnx.ml opset ignored)', () => {
    const { modelPath } = sklearnFixture();
    const sig = readOnnxSignature(readFileSync(modelPath));
    expect(sig.inputs).toEqual([{ name: 'input', datatype: 'FP32', shape: [-1, 4] }]);
    expect(sig.outputs).toEqual([
      { name: 'label', datatype: 'BYTES', shape: [-1] },
      { name: 'probabilities', datatype: 'FP32', shape: [-1, 3] },
    ]);
    expect(sig.opset).toBe(15);
    expect(sig.producer).toMatch(/^skl2onnx \d/);
  });

  it('surfaces metadata_props, where Stratum keeps the preprocessor and the classes', () => {
    const bytes = withMetadata(tinyModel(), { 'stratum.classes': '["a","b","c"]', 'stratum.preprocessor': '{}' });
    expect(readOnnxSignature(bytes).metadata).toEqual({
      'stratum.classes': '["a","b","c"]',
      'stratum.preprocessor': '{}',
    });
  });

  it('leaves initializers listed as inputs (IR < 4) out, and names non-tensor outputs in ONNX notation', () => {
    const model = onnx.ModelProto.decode(tinyModel());
    const graph = model.graph!;
    graph.input!.push(
      onnx.ValueInfoProto.create({
        name: 'W',
        type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 4 }, { dimValue: 3 }] } } },
      }),
    );
    graph.output!.push(
      onnx.ValueInfoProto.create({
        name: 'zipmap',
        type: { sequenceType: { elemType: { mapType: { keyType: 8, valueType: { tensorType: { elemType: 1 } } } } } },
      }),
      onnx.ValueInfoProto.create({ name: 'anything', type: { tensorType: { elemType: 7 } } }),
    );
    const sig = readOnnxSignature(onnx.ModelProto.encode(model).finish());
    expect(sig.inputs.map((i) => i.name)).toEqual(['x']);
    expect(sig.outputs.slice(1)).toEqual([
      { name: 'zipmap', datatype: 'seq(map(bytes,tensor(fp32)))', shape: [] },
      { name: 'anything', datatype: 'INT64', shape: [], unknownRank: true },
    ]);
  });

  it.each([
    ['an empty file', new Uint8Array(0), 'not_onnx', /the file is empty/],
    ['JSON text', Buffer.from('{"inputs": [1, 2, 3]}'), 'not_onnx', /not an ONNX model/],
    ['a truncated model', tinyModel().subarray(0, 150), 'truncated', /truncated/],
  ])('refuses %s with a typed error', (_, bytes, code, message) => {
    const e = thrown(() => readOnnxSignature(bytes));
    expect(e.code).toBe(code);
    expect(e.message).toMatch(message);
  });

  it('never throws anything but OnnxFormatError on any prefix of a model', () => {
    const bytes = tinyModel();
    for (let n = 0; n < bytes.length; n++) {
      try {
        readOnnxSignature(bytes.subarray(0, n));
      } catch (e) {
        expect(e).toBeInstanceOf(OnnxFormatError);
      }
    }
  });
});
