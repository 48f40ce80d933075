import { UsageError } from '../args';
import { replicaOptionsOf } from '../replica-command';

const model = { path: '/m.onnx', name: 'penguins', version: 3 };

describe('stratum replica flags', () => {
  it('serves under the given name and version, with the batching asked', () => {
    expect(
      replicaOptionsOf(
        {
          name: 'penguins-edge',
          version: 3,
          host: '0.0.0.0',
          port: 8080,
          'max-batch-size': 16,
          'max-queue-delay-ms': 3,
          threads: 2,
        },
        model,
      ),
    ).toEqual({
      modelPath: '/m.onnx',
      name: 'penguins-edge',
      version: '3',
      host: '0.0.0.0',
      port: 8080,
      batching: { maxBatchSize: 16, maxQueueDelayMs: 3 },
      intraOpNumThreads: 2,
    });
  });

  it('defaults to the model’s name and version, on loopback and a free port', () => {
    expect(replicaOptionsOf({}, model)).toMatchObject({ name: 'penguins', version: '3', host: '127.0.0.1', port: 0 });
  });

  it('names the flag and the value it refused', () => {
    expect(() => replicaOptionsOf({ 'max-batch-size': 0 }, model)).toThrow(
      new UsageError('--max-batch-size expects a whole number ≥ 1, got 0', 'replica'),
    );
    expect(() => replicaOptionsOf({ port: 1.5 }, model)).toThrow(/--port expects a whole number ≥ 0, got 1.5/);
  });
});
