/**
 * Malformed requests get a 4xx (REST) or the matching gRPC code (INVALID_ARGUMENT mostly),
 * with a message naming the tensor and the fault. Runs against a replica process.
 */
import { Code, ConnectError } from '@connectrpc/connect';
import { gzipSync } from 'node:zlib';

import { tinyModel, writeTemp } from './fixtures';
import { call, f32, grpcClient, spawnReplica, withBinary, type ReplicaProcess } from './helpers';

let replica: ReplicaProcess;
const LIMIT = 64 * 1024;

beforeAll(async () => {
  const model = writeTemp('tiny.onnx', tinyModel());
  replica = await spawnReplica([
    '--model',
    model,
    '--name',
    'tiny',
    '--version',
    '1',
    '--max-body-bytes',
    String(LIMIT),
  ]);
});

afterAll(async () => {
  expect(await replica.stop()).toBe(0);
});

const x = (over: Record<string, unknown> = {}) => ({
  name: 'x',
  datatype: 'FP32',
  shape: [1, 4],
  data: [1, 2, 3, 4],
  ...over,
});
const SPEC = '"x" (FP32 [-1,4])';

const REST: [string, { body: string | Uint8Array; headers?: Record<string, string> }, number, string | RegExp][] = [
  ['malformed JSON', { body: '{"inputs": [' }, 400, /^malformed JSON in the request body: /],
  [
    'NaN in JSON',
    { body: '{"inputs":[{"name":"x","datatype":"FP32","shape":[1,4],"data":[NaN,1,2,3]}]}' },
    400,
    /; JSON has no NaN or Infinity: send such values as binary data$/,
  ],
  ['a JSON array', { body: '[1,2]' }, 400, 'the request must be a JSON object with "inputs", got an array'],
  ['no inputs list', { body: '{}' }, 400, 'the request needs "inputs", a list of tensors, got nothing'],
  ['no inputs', { body: '{"inputs":[]}' }, 400, `the request has no inputs; the model takes ${SPEC}`],
  [
    'an unknown input name',
    { body: JSON.stringify({ inputs: [x({ name: 'X' })] }) },
    400,
    `unknown input "X" (did you mean "x"?); the model's inputs are ${SPEC}`,
  ],
  ['an input twice', { body: JSON.stringify({ inputs: [x(), x()] }) }, 400, 'input "x" appears more than once'],
  [
    'a wrong datatype',
    { body: JSON.stringify({ inputs: [x({ datatype: 'FP64' })] }) },
    400,
    'input "x" has datatype FP64, but the model takes FP32',
  ],
  [
    'an unknown datatype',
    { body: JSON.stringify({ inputs: [x({ datatype: 'FLOAT' })] }) },
    400,
    /^input "x": unknown datatype "FLOAT"; OIP datatypes are BOOL, UINT8, /,
  ],
  [
    'a shape mismatch',
    { body: JSON.stringify({ inputs: [x({ shape: [1, 5] })] }) },
    400,
    'input "x": shape [1,5] does not match the model\'s [-1,4] (-1 takes any size)',
  ],
  [
    'a wrong rank',
    { body: JSON.stringify({ inputs: [x({ shape: [4] })] }) },
    400,
    'input "x": shape [4] does not match the model\'s [-1,4] (-1 takes any size)',
  ],
  [
    'a negative dimension',
    { body: JSON.stringify({ inputs: [x({ shape: [1, -4] })] }) },
    400,
    'input "x": "shape" must be a list of non-negative integers, got [1,-4]',
  ],
  [
    'too little data',
    { body: JSON.stringify({ inputs: [x({ shape: [2, 4], data: [1, 2, 3, 4, 5, 6, 7] })] }) },
    400,
    'input "x": shape [2,4] needs 8 elements, "data" has 7',
  ],
  [
    'nested data of the wrong shape',
    {
      body: JSON.stringify({
        inputs: [
          x({
            shape: [2, 4],
            data: [
              [1, 2, 3, 4],
              [5, 6, 7],
            ],
          }),
        ],
      }),
    },
    400,
    'input "x": data[1] has 3 elements, but shape [2,4] needs 4 there',
  ],
  [
    'a string element',
    { body: JSON.stringify({ inputs: [x({ data: [1, 2, 'three', 4] })] }) },
    400,
    'input "x": element 2 is the string "three"; FP32 data must be numbers',
  ],
  [
    'no data',
    { body: JSON.stringify({ inputs: [x({ data: undefined })] }) },
    400,
    'input "x" has neither "data" nor parameters.binary_data_size',
  ],
  [
    'an id that is not a string',
    { body: JSON.stringify({ id: 7, inputs: [x()] }) },
    400,
    'the request: "id" must be a string, got 7',
  ],
  [
    'an unknown output',
    { body: JSON.stringify({ inputs: [x()], outputs: [{ name: 'probability' }] }) },
    400,
    'unknown output "probability" (did you mean "probabilities"?); the model\'s outputs are "probabilities" (FP32 [-1,3])',
  ],
  [
    'the classification extension',
    {
      body: JSON.stringify({ inputs: [x()], outputs: [{ name: 'probabilities', parameters: { classification: 2 } }] }),
    },
    400,
    'output "probabilities": the classification extension is not supported; ask for the tensor itself',
  ],
  [
    'a header length past the body',
    withBinary({ inputs: [x({ data: undefined, parameters: { binary_data_size: 16 } })] }, f32(1, 2, 3, 4), '5000'),
    400,
    /^Inference-Header-Content-Length is 5000, but the body has only \d+ bytes$/,
  ],
  [
    'a header length that is not a number',
    withBinary({ inputs: [x()] }, new Uint8Array(0), 'lots'),
    400,
    'Inference-Header-Content-Length must be a non-negative integer, got "lots"',
  ],
  [
    'a header length that cuts the JSON',
    withBinary({ inputs: [x()] }, new Uint8Array(0), '10'),
    400,
    /^malformed JSON in the JSON header of the request: /,
  ],
  [
    'binary_data_size past the binary data',
    withBinary({ inputs: [x({ data: undefined, parameters: { binary_data_size: 32 } })] }, f32(1, 2, 3, 4)),
    400,
    'input "x" declares binary_data_size 32, but only 16 bytes of binary data remain after the earlier inputs',
  ],
  [
    'binary data nobody declared',
    withBinary({ inputs: [x({ data: undefined, parameters: { binary_data_size: 16 } })] }, f32(1, 2, 3, 4, 5)),
    400,
    'the body carries 20 bytes of binary data after the JSON header, but the inputs declare 16',
  ],
  [
    'binary data short of the shape',
    withBinary({ inputs: [x({ data: undefined, parameters: { binary_data_size: 12 } })] }, f32(1, 2, 3)),
    400,
    'input "x": the shape needs 4 FP32 elements = 16 bytes, the binary data has 12',
  ],
  [
    'binary_data_size without the header',
    { body: JSON.stringify({ inputs: [x({ data: undefined, parameters: { binary_data_size: 16 } })] }) },
    400,
    'input "x" sets binary_data_size, but the request has no Inference-Header-Content-Length header',
  ],
  [
    'both data and binary_data_size',
    withBinary({ inputs: [x({ parameters: { binary_data_size: 16 } })] }, f32(1, 2, 3, 4)),
    400,
    'input "x" has both "data" and parameters.binary_data_size; send one',
  ],
  [
    'NaN in binary data',
    withBinary({ inputs: [x({ data: undefined, parameters: { binary_data_size: 16 } })] }, f32(1, 2, NaN, 4)),
    400,
    'input "x": element 2 is not a finite number (NaN or ±Infinity), which this replica refuses',
  ],
  [
    'a body that says gzip but is not',
    { body: JSON.stringify({ inputs: [x()] }), headers: { 'content-encoding': 'gzip' } },
    400,
    /^the body is not valid gzip data: /,
  ],
  [
    'an unsupported Content-Encoding',
    { body: JSON.stringify({ inputs: [x()] }), headers: { 'content-encoding': 'br' } },
    400,
    'Content-Encoding "br" is not supported; send gzip, deflate or identity',
  ],
  [
    'a gzip body that inflates past the limit',
    { body: gzipSync(Buffer.alloc(LIMIT + 1, 32)), headers: { 'content-encoding': 'gzip' } },
    413,
    `the request body exceeds this replica's limit of ${LIMIT} bytes (64 KiB); send fewer rows per request or raise limits.maxBodyBytes`,
  ],
  [
    'an oversized body',
    { body: JSON.stringify({ inputs: [x({ shape: [20000, 4], data: new Array(80000).fill(1.5) })] }) },
    413,
    `the request body exceeds this replica's limit of ${LIMIT} bytes (64 KiB); send fewer rows per request or raise limits.maxBodyBytes`,
  ],
];

describe('malformed REST requests', () => {
  it.each(REST.map(([what, ...rest]) => [`${what} → ${rest[1]}`, ...rest] as const))(
    '%s naming the problem',
    async (_, init, status, message) => {
      const res = await call(replica.url, '/v2/models/tiny/infer', { method: 'POST', ...init });
      expect(res.status).toBe(status);
      expect(res.headers.get('content-type')).toBe('application/json');
      const { error } = res.json<{ error: string }>();
      if (typeof message === 'string') expect(error).toBe(message);
      else expect(error).toMatch(message);
    },
  );

  it('refuses a bad path segment and a wrong method without a 5xx', async () => {
    expect((await call(replica.url, '/v2/models/%E0%A4%A/infer', { method: 'POST', body: '{}' })).json()).toEqual({
      error: 'the path segment "%E0%A4%A" is not valid percent-encoding',
    });
    const wrong = await call(replica.url, '/v2/models/tiny/infer');
    expect([wrong.status, wrong.headers.get('allow'), wrong.json()]).toEqual([
      405,
      'POST',
      { error: 'GET /v2/models/tiny/infer is not allowed; use POST' },
    ]);
  });
});

const GRPC: [string, Record<string, unknown>, Code, string][] = [
  [
    'an unknown input',
    { inputs: [{ name: 'y', datatype: 'FP32', shape: [1n, 4n], contents: { fp32Contents: [1, 2, 3, 4] } }] },
    Code.InvalidArgument,
    `unknown input "y" (did you mean "x"?); the model's inputs are ${SPEC}`,
  ],
  [
    'a wrong datatype',
    { inputs: [{ name: 'x', datatype: 'INT64', shape: [1n, 4n], contents: { int64Contents: [1n, 2n, 3n, 4n] } }] },
    Code.InvalidArgument,
    'input "x" has datatype INT64, but the model takes FP32',
  ],
  [
    'a shape mismatch',
    { inputs: [{ name: 'x', datatype: 'FP32', shape: [2n, 2n], contents: { fp32Contents: [1, 2, 3, 4] } }] },
    Code.InvalidArgument,
    'input "x": shape [2,2] does not match the model\'s [-1,4] (-1 takes any size)',
  ],
  [
    'too few elements',
    { inputs: [{ name: 'x', datatype: 'FP32', shape: [1n, 4n], contents: { fp32Contents: [1, 2, 3] } }] },
    Code.InvalidArgument,
    'input "x": the shape needs 4 elements, contents.fp32_contents has 3',
  ],
  [
    'elements in the wrong field',
    { inputs: [{ name: 'x', datatype: 'FP32', shape: [1n, 4n], contents: { intContents: [1, 2, 3, 4] } }] },
    Code.InvalidArgument,
    'input "x": FP32 elements belong in contents.fp32_contents, not contents.int_contents',
  ],
  [
    'raw contents for the wrong number of inputs',
    { inputs: [{ name: 'x', datatype: 'FP32', shape: [1n, 4n] }], rawInputContents: [f32(1, 2, 3, 4), f32(1)] },
    Code.InvalidArgument,
    'raw_input_contents has 2 entries for 1 inputs; send one per input, in order',
  ],
  [
    'raw contents short of the shape',
    { inputs: [{ name: 'x', datatype: 'FP32', shape: [1n, 4n] }], rawInputContents: [f32(1, 2)] },
    Code.InvalidArgument,
    'input "x": the shape needs 4 FP32 elements = 16 bytes, the binary data has 8',
  ],
  [
    'raw and typed contents mixed',
    {
      inputs: [{ name: 'x', datatype: 'FP32', shape: [1n, 4n], contents: { fp32Contents: [1, 2, 3, 4] } }],
      rawInputContents: [f32(1, 2, 3, 4)],
    },
    Code.InvalidArgument,
    'input "x" sets contents while the request uses raw_input_contents; use one or the other',
  ],
  [
    'an unknown output',
    {
      inputs: [{ name: 'x', datatype: 'FP32', shape: [1n, 4n], contents: { fp32Contents: [1, 2, 3, 4] } }],
      outputs: [{ name: 'logits' }],
    },
    Code.InvalidArgument,
    'unknown output "logits"; the model\'s outputs are "probabilities" (FP32 [-1,3])',
  ],
  [
    'another model',
    { modelName: 'cars', inputs: [] },
    Code.NotFound,
    'model "cars" is not served here; this replica serves "tiny" version "1"',
  ],
  [
    'a message past the size limit',
    { inputs: [{ name: 'x', datatype: 'FP32', shape: [20000n, 4n] }], rawInputContents: [new Uint8Array(320000)] },
    Code.ResourceExhausted,
    '',
  ],
];

describe('malformed gRPC requests', () => {
  it.each(GRPC.map(([what, ...rest]) => [`${what} → ${Code[rest[1]]}`, ...rest] as const))(
    '%s',
    async (_, req, code, message) => {
      const error = await grpcClient(replica.url)
        .modelInfer({ modelName: 'tiny', ...req })
        .then(
          () => null,
          (e: unknown) => ConnectError.from(e),
        );
      expect(error?.code).toBe(code);
      if (message) expect(error?.rawMessage).toBe(message);
    },
  );
});
