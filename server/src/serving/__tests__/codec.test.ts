import { create } from '@bufbuild/protobuf';
import { inference } from '@stratum/proto';
import fc from 'fast-check';

import { decodeGrpcInfer, encodeGrpcInfer } from '../grpc-codec';
import { decodeRestInfer, encodeRestInfer } from '../oip-codec';
import { flattenJson, fromBytes, fromHalf, fromJsonValues, jsonDataText, toBytes, toHalf } from '../tensor-data';
import type { Datatype, Tensor, TensorSpec } from '../types';

const NO_NAN = { allowNonFinite: false };

describe('tensor data', () => {
  it('converts JSON values per datatype, checking integer ranges', () => {
    expect(Array.from(fromJsonValues('INT8', [-128, 127], 'x') as Int8Array)).toEqual([-128, 127]);
    expect(() => fromJsonValues('INT8', [128], 'input "x"')).toThrow(
      'input "x": element 0 is number 128; INT8 data must be integers in [-128, 127]',
    );
    expect(() => fromJsonValues('UINT32', [1.5], 'input "x"')).toThrow(
      'input "x": element 0 is number 1.5; UINT32 data must be integers',
    );
    expect(() => fromJsonValues('FP32', [1, '2'], 'input "x"')).toThrow(
      'input "x": element 1 is the string "2"; FP32 data must be numbers',
    );
    expect(() => fromJsonValues('BOOL', [1], 'input "x"')).toThrow(
      'input "x": element 0 is number 1; BOOL data must be true or false',
    );
    expect(() => fromJsonValues('FP32', [1e39], 'input "x"')).toThrow(
      'input "x": element 0 is number 1e+39; FP32 data must be numbers within FP32\'s range',
    );
    expect(() => fromJsonValues('FP16', [70000], 'input "x"')).toThrow(
      'input "x": element 0 is number 70000; FP16 data must be numbers within FP16\'s range',
    );
    expect(Array.from(fromJsonValues('INT64', [2 ** 53], 'x') as BigInt64Array)).toEqual([2n ** 53n]);
    expect(fromJsonValues('BYTES', ['a', 'é'], 'x')).toEqual(['a', 'é']);
  });

  it('flattens nested data that matches the shape, and says where it does not', () => {
    expect(
      flattenJson(
        [
          [1, 2],
          [3, 4],
          [5, 6],
        ],
        [3, 2],
        'x',
      ),
    ).toEqual([1, 2, 3, 4, 5, 6]);
    expect(() => flattenJson([[1, 2], [3]], [2, 2], 'input "x"')).toThrow(
      'input "x": data[1] has 1 elements, but shape [2,2] needs 2 there',
    );
    expect(() => flattenJson([[1, 2], 3], [2, 2], 'input "x"')).toThrow(
      'input "x": data[1] is number 3, but shape [2,2] nests 2 levels deep',
    );
    expect(() => flattenJson({ a: 1 }, [1], 'input "x"')).toThrow('input "x": "data" must be an array, got an object');
  });

  it('round-trips every datatype through little-endian bytes', () => {
    const cases: [Datatype, unknown[]][] = [
      ['BOOL', [true, false, true]],
      ['UINT8', [0, 255]],
      ['UINT16', [0, 65535]],
      ['UINT32', [0, 4294967295]],
      ['UINT64', [0, 2 ** 53]],
      ['INT8', [-128, 127]],
      ['INT16', [-32768, 32767]],
      ['INT32', [-2147483648, 2147483647]],
      ['INT64', [-(2 ** 53), 2 ** 53]],
      ['FP16', [1, -2.5, 65504]],
      ['FP32', [1.5, -0.25, 3e38]],
      ['FP64', [Math.PI, -1e300]],
      ['BYTES', ['', 'penguin', 'ü']],
    ];
    for (const [dt, values] of cases) {
      const t: Tensor = { name: 'x', datatype: dt, shape: [values.length], data: fromJsonValues(dt, values, 'x') };
      const back = fromBytes(dt, toBytes(t), values.length, 'x');
      expect({ dt, data: jsonDataText({ ...t, data: back }) }).toEqual({ dt, data: jsonDataText(t) });
    }
  });

  it('refuses byte counts and BYTES framing that do not fit the shape', () => {
    expect(() => fromBytes('FP32', new Uint8Array(12), 4, 'input "x"')).toThrow(
      'input "x": the shape needs 4 FP32 elements = 16 bytes, the binary data has 12',
    );
    expect(() => fromBytes('BYTES', Uint8Array.of(9, 0, 0, 0, 65), 1, 'input "s"')).toThrow(
      'input "s": BYTES element 0 declares 9 bytes at byte 0, past the end of its 5 bytes',
    );
    expect(() => fromBytes('BYTES', Uint8Array.of(1, 0, 0, 0, 65, 0), 1, 'input "s"')).toThrow(
      'input "s": BYTES element 1 has a truncated 4-byte length at byte 5 of 6',
    );
    expect(() => fromBytes('BOOL', Uint8Array.of(0, 2), 2, 'input "b"')).toThrow(
      'input "b": BOOL element 1 is the byte 2; BOOL bytes must be 0 or 1',
    );
  });

  it('converts halves exactly for every representable half', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffff }), (h) => {
        const v = fromHalf(h);
        fc.pre(Number.isFinite(v));
        expect(toHalf(v)).toBe(Object.is(v, -0) ? 0x8000 : h);
      }),
    );
  });

  it('writes 64-bit integers exactly and non-finite floats as null in JSON', () => {
    expect(jsonDataText({ name: 'x', datatype: 'INT64', shape: [1], data: BigInt64Array.of(2n ** 62n + 1n) })).toBe(
      '[4611686018427387905]',
    );
    expect(jsonDataText({ name: 'x', datatype: 'FP64', shape: [2], data: Float64Array.of(NaN, 1) })).toBe('[null,1]');
  });
});

const SIG: { inputs: TensorSpec[]; outputs: TensorSpec[] } = {
  inputs: [
    { name: 'x', datatype: 'FP32', shape: [-1, 2] },
    { name: 'tag', datatype: 'BYTES', shape: [-1] },
  ],
  outputs: [
    { name: 'y', datatype: 'FP32', shape: [-1, 2] },
    { name: 'label', datatype: 'BYTES', shape: [-1] },
  ],
};

function binaryBody(header: unknown, ...chunks: Uint8Array[]): { body: Buffer; length: string } {
  const json = Buffer.from(JSON.stringify(header));
  return { body: Buffer.concat([json, ...chunks]), length: String(json.length) };
}

describe('REST codec', () => {
  it('reads JSON and binary inputs side by side, and which outputs to answer in binary', () => {
    const x = new Uint8Array(Float32Array.of(1, 2, 3, 4).buffer);
    const tag = toBytes({ name: 'tag', datatype: 'BYTES', shape: [2], data: ['a', 'b'] });
    const { body, length } = binaryBody(
      {
        id: 'r1',
        inputs: [
          { name: 'x', datatype: 'FP32', shape: [2, 2], parameters: { binary_data_size: 16 } },
          { name: 'tag', datatype: 'BYTES', shape: [2], parameters: { binary_data_size: tag.length } },
        ],
        outputs: [{ name: 'label' }, { name: 'y', parameters: { binary_data: true } }],
      },
      x,
      tag,
    );
    const req = decodeRestInfer(body, length, SIG, NO_NAN);
    expect(req.id).toBe('r1');
    expect(Array.from(req.inputs[0]!.data as Float32Array)).toEqual([1, 2, 3, 4]);
    expect(req.inputs[1]!.data).toEqual(['a', 'b']);
    expect(req.outputs).toEqual([
      { name: 'label', binary: false },
      { name: 'y', binary: true },
    ]);
  });

  it('answers every output, in binary when binary_data_output is set', () => {
    const body = Buffer.from(
      JSON.stringify({
        parameters: { binary_data_output: true },
        inputs: [
          { name: 'x', datatype: 'FP32', shape: [1, 2], data: [[1, 2]] },
          { name: 'tag', datatype: 'BYTES', shape: [1], data: ['t'] },
        ],
      }),
    );
    expect(decodeRestInfer(body, undefined, SIG, NO_NAN).outputs).toEqual([
      { name: 'y', binary: true },
      { name: 'label', binary: true },
    ]);
  });

  it('writes binary outputs after the JSON header and says how long the header is', () => {
    const y: Tensor = { name: 'y', datatype: 'FP32', shape: [1, 2], data: Float32Array.of(0.5, 2) };
    const label: Tensor = { name: 'label', datatype: 'BYTES', shape: [1], data: ['Gentoo'] };
    const { body, headerLength } = encodeRestInfer({ modelName: 'm', modelVersion: '1', id: '', outputs: [y, label] }, [
      { name: 'y', binary: true },
      { name: 'label', binary: false },
    ]);
    const header = JSON.parse(body.subarray(0, headerLength!).toString()) as unknown;
    expect(header).toEqual({
      model_name: 'm',
      model_version: '1',
      outputs: [
        { name: 'y', datatype: 'FP32', shape: [1, 2], parameters: { binary_data_size: 8 } },
        { name: 'label', datatype: 'BYTES', shape: [1], data: ['Gentoo'] },
      ],
    });
    expect(Array.from(new Float32Array(new Uint8Array(body.subarray(headerLength!)).buffer))).toEqual([0.5, 2]);
  });
});

describe('gRPC codec', () => {
  const request = (init: Parameters<typeof create<typeof inference.ModelInferRequestSchema>>[1]) =>
    create(inference.ModelInferRequestSchema, init);

  it('reads typed contents and raw contents alike', () => {
    const typed = request({
      inputs: [
        { name: 'x', datatype: 'FP32', shape: [1n, 2n], contents: { fp32Contents: [1, 2] } },
        { name: 'tag', datatype: 'BYTES', shape: [1n], contents: { bytesContents: [Buffer.from('t')] } },
      ],
    });
    const raw = request({
      inputs: [
        { name: 'x', datatype: 'FP32', shape: [1n, 2n] },
        { name: 'tag', datatype: 'BYTES', shape: [1n] },
      ],
      rawInputContents: [
        new Uint8Array(Float32Array.of(1, 2).buffer),
        toBytes({ name: 'tag', datatype: 'BYTES', shape: [1], data: ['t'] }),
      ],
    });
    for (const r of [typed, raw]) {
      const req = decodeGrpcInfer(r, SIG, NO_NAN);
      expect(Array.from(req.inputs[0]!.data as Float32Array)).toEqual([1, 2]);
      expect(req.inputs[1]!.data).toEqual(['t']);
      expect(req.outputs.map((o) => o.name)).toEqual(['y', 'label']);
    }
  });

  it('answers in raw_output_contents, as tritonclient reads them', () => {
    const y: Tensor = { name: 'y', datatype: 'FP32', shape: [1, 2], data: Float32Array.of(0.5, 2) };
    const msg = encodeGrpcInfer({ modelName: 'm', modelVersion: '1', id: 'q', outputs: [y] });
    expect(msg.outputs).toEqual([{ name: 'y', datatype: 'FP32', shape: [1n, 2n] }]);
    expect(Array.from(new Float32Array(new Uint8Array(msg.rawOutputContents![0]!).buffer))).toEqual([0.5, 2]);
  });
});
