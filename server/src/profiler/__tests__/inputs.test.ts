import { readFileSync } from 'node:fs';

import { readOnnxSignature, type OnnxSignature } from '../../onnx/signature';
import { decodeRestInfer, HEADER_LENGTH } from '../../serving/oip-codec';
import { encodeRows, planPredict } from '../../serving/predict';
import { stratumPenguins } from '../../serving/__tests__/fixtures';
import { createRng } from '../../util/random';
import { encodeInferBody, sampleRequests, synthesizeInputs } from '../inputs';
import { mlpModel } from './model';

const signature: OnnxSignature = {
  inputs: [
    { name: 'image', datatype: 'FP32', shape: [-1, 3, 32, 32] },
    { name: 'ids', datatype: 'INT64', shape: [-1, -1] },
    { name: 'text', datatype: 'BYTES', shape: [-1] },
    { name: 'mask', datatype: 'BOOL', shape: [-1, 4] },
    { name: 'free', datatype: 'FP16', shape: [], unknownRank: true },
  ],
  outputs: [
    { name: 'y', datatype: 'FP32', shape: [-1, 2] },
    { name: 'zip', datatype: 'seq(map(string,tensor(float)))', shape: [] },
  ],
  opset: 17,
  producer: 'test',
  metadata: {},
};

describe('synthetic inputs', () => {
  it('one row of every input: image-like shapes, free dimensions, every datatype', () => {
    const inputs = synthesizeInputs(signature, createRng(1));
    expect(inputs.map((t) => [t.name, t.datatype, t.shape])).toEqual([
      ['image', 'FP32', [1, 3, 32, 32]],
      ['ids', 'INT64', [1, 8]],
      ['text', 'BYTES', [1]],
      ['mask', 'BOOL', [1, 4]],
      ['free', 'FP16', [1]],
    ]);
    const pixels = Array.from(inputs[0]!.data as Float32Array);
    const mean = pixels.reduce((a, b) => a + b, 0) / pixels.length;
    const sd = Math.sqrt(pixels.reduce((a, b) => a + (b - mean) ** 2, 0) / pixels.length);
    expect(Math.abs(mean)).toBeLessThan(0.1);
    expect(Math.abs(sd - 1)).toBeLessThan(0.1);
    expect([...(inputs[3]!.data as Uint8Array)].every((b) => b === 0 || b === 1)).toBe(true);
  });

  it('encodes bodies the replica decodes back to the same tensors, asking for the tensor outputs only', () => {
    const inputs = synthesizeInputs(signature, createRng(2));
    const { body, headers } = encodeInferBody(inputs, ['y']);
    const decoded = decodeRestInfer(body, headers[HEADER_LENGTH], signature, { allowNonFinite: false });
    expect(decoded.inputs).toEqual(inputs);
    expect(decoded.outputs).toEqual([{ name: 'y', binary: true }]);
    const samples = sampleRequests(signature, { count: 3 });
    expect(samples.bodies).toHaveLength(3);
    expect(samples.description).toBe(
      'synthetic: image FP32 [1,3,32,32], ids INT64 [1,8], text BYTES [1], mask BOOL [1,4], free FP16 [1] (floats random normal, integers 0-9)',
    );
  });

  it('says why a model cannot be driven', () => {
    expect(() => sampleRequests({ ...signature, outputs: [signature.outputs[1]!] })).toThrow(
      'the model has no tensor output, so no request can be answered',
    );
    expect(() =>
      sampleRequests({ ...signature, inputs: [{ name: 'm', datatype: 'map(string,float)', shape: [] }] }),
    ).toThrow('input "m" is map(string,float): no request can carry it, so it cannot be profiled');
    expect(() => sampleRequests(readOnnxSignature(mlpModel()), { records: [{ a: 1 }] })).toThrow(
      'sample records need a model with a Stratum preprocessor (stratum.preprocessor metadata)',
    );
  });
});

describe('sample records through the preprocessor', () => {
  it('encodes each record as training did', async () => {
    const { modelPath, records } = await stratumPenguins();
    const sig = readOnnxSignature(readFileSync(modelPath));
    const samples = sampleRequests(sig, { records: records.slice(0, 5), count: 4 });
    expect(samples.bodies).toHaveLength(4);
    expect(samples.description).toMatch(/^4 sample records through the model's preprocessor → \S+ FP32 \[1,\d+\]$/);
    const b = samples.bodies[2]!;
    const decoded = decodeRestInfer(b.body, b.headers[HEADER_LENGTH], sig, { allowNonFinite: false });
    expect(decoded.inputs).toEqual([encodeRows(planPredict(sig)!, { rows: [records[2]] })]);
  });
});
