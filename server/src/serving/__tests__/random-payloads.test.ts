/**
 * Random and malformed payloads to /infer of a replica process: never a 5xx, never a crash,
 * and a correct request still answers correctly afterwards.
 */
import fc from 'fast-check';

import { tinyModel, tinyReference, writeTemp } from './fixtures';
import { call, expectClose, post, spawnReplica, withBinary, type ReplicaProcess } from './helpers';

let replica: ReplicaProcess;

beforeAll(async () => {
  const model = writeTemp('tiny.onnx', tinyModel());
  replica = await spawnReplica(['--model', model, '--name', 'tiny', '--version', '1', '--max-body-bytes', '65536']);
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

const INPUT = fc.record(
  {
    name: fc.oneof(fc.constant('x'), fc.string()),
    datatype: fc.oneof(fc.constantFrom('FP32', 'FP64', 'INT64', 'BYTES', 'BOOL', 'FP16'), fc.string()),
    shape: fc.oneof(fc.array(fc.integer({ min: -2, max: 6 }), { maxLength: 3 }), fc.jsonValue()),
    data: fc.oneof(
      fc.array(fc.oneof(fc.double(), fc.integer(), fc.string(), fc.boolean()), { maxLength: 30 }),
      fc.jsonValue(),
    ),
    parameters: fc.record({ binary_data_size: fc.oneof(fc.nat(64), fc.jsonValue()) }, { requiredKeys: [] }),
  },
  { requiredKeys: [] },
);

/** Well-formed requests of 0–5 rows with any doubles: answered (200) or refused as out of FP32 range (400). */
const NEAR_VALID = fc.integer({ min: 0, max: 5 }).chain((n) =>
  fc.array(fc.double({ noNaN: true, noDefaultInfinity: true }), { minLength: n * 4, maxLength: n * 4 }).map((data) => ({
    body: JSON.stringify({ inputs: [x({ shape: [n, 4], data })] }),
    headers: {} as Record<string, string>,
  })),
);

const BODY = fc.oneof(
  NEAR_VALID,
  fc.jsonValue().map((v) => ({ body: JSON.stringify(v) ?? 'null', headers: {} as Record<string, string> })),
  fc
    .record({ inputs: fc.array(INPUT, { maxLength: 3 }), outputs: fc.option(fc.jsonValue()) })
    .map((v) => ({ body: JSON.stringify(v), headers: {} as Record<string, string> })),
  fc
    .tuple(fc.uint8Array({ maxLength: 200 }), fc.option(fc.oneof(fc.nat(250).map(String), fc.string())))
    .map(([bytes, length]) => ({
      body: bytes,
      headers: (length === null ? {} : { 'inference-header-content-length': length }) as Record<string, string>,
    })),
  fc
    .tuple(fc.array(INPUT, { minLength: 1, maxLength: 2 }), fc.uint8Array({ maxLength: 64 }))
    .map(([inputs, bin]) => withBinary({ inputs }, bin)),
);

it('random payloads never get a 5xx, never crash the process, and a correct request still answers correctly', async () => {
  await fc.assert(
    fc.asyncProperty(BODY, async ({ body, headers }) => {
      const res = await call(replica.url, '/v2/models/tiny/infer', { method: 'POST', body, headers });
      expect(res.status).toBeLessThan(500);
      const answer = res.json<{ error?: unknown; outputs?: unknown }>();
      expect(res.status === 200 ? Array.isArray(answer.outputs) : typeof answer.error === 'string').toBe(true);
    }),
    { numRuns: 500 },
  );
  expect(replica.child.exitCode).toBeNull();
  const row = [0.5, -1, 2, 0];
  const ok = await post(replica.url, '/v2/models/tiny/infer', { inputs: [x({ data: row })] });
  expectClose([ok.json<{ outputs: { data: number[] }[] }>().outputs[0]!.data], [tinyReference(row)], 1e-6);
});
