/** The replica as a process: its arguments, its one ready line, a clean exit on SIGTERM. */
import { spawnSync } from 'node:child_process';

import { parseReplicaArgs, USAGE } from '../replica-main';
import { tinyModel, writeTemp } from './fixtures';
import { post, REPLICA_MAIN, spawnReplica } from './helpers';

describe('parseReplicaArgs', () => {
  it('reads the flags, with batching on by default', () => {
    expect(parseReplicaArgs(['--model', 'm.onnx', '--name', 'n', '--version', '2'])).toEqual({
      modelPath: 'm.onnx',
      name: 'n',
      version: '2',
      host: '127.0.0.1',
      port: 0,
      batching: { maxBatchSize: 32, maxQueueDelayMs: 2 },
      limits: {},
    });
    expect(
      parseReplicaArgs([
        '--model',
        'm',
        '--name',
        'n',
        '--version',
        '1',
        '--port',
        '9000',
        '--max-batch-size',
        '1',
        '--max-queue-delay-ms',
        '0',
        '--max-body-bytes',
        '1024',
        '--threads',
        '2',
      ]),
    ).toMatchObject({
      port: 9000,
      batching: { maxBatchSize: 1, maxQueueDelayMs: 0 },
      limits: { maxBodyBytes: 1024 },
      intraOpNumThreads: 2,
    });
  });

  it('says what is wrong, with the usage', () => {
    expect(() => parseReplicaArgs(['--name', 'n', '--version', '1'])).toThrow(`--model is required\n${USAGE}`);
    expect(() => parseReplicaArgs(['--model', 'm', '--name', 'n', '--version', '1', '--max-batch-size', '0'])).toThrow(
      `--max-batch-size must be an integer ≥ 1, got "0"\n${USAGE}`,
    );
    expect(() => parseReplicaArgs(['--model', 'm', '--nme', 'n'])).toThrow(/Unknown option '--nme'/);
  });
});

describe('replica-main', () => {
  it('prints exactly one ready line, serves, and exits 0 on SIGTERM', async () => {
    const replica = await spawnReplica([
      '--model',
      writeTemp('tiny.onnx', tinyModel()),
      '--name',
      'tiny',
      '--version',
      '7',
    ]);
    const res = await post(replica.url, '/v2/models/tiny/versions/7/infer', {
      inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4] }],
    });
    expect(res.status).toBe(200);
    expect(await replica.stop()).toBe(0);
    expect(replica.stdout()).toBe(`stratum replica tiny:7 ready on ${replica.url}\n`);
    expect(replica.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('exits 1 with a message when the model cannot be loaded', () => {
    const r = spawnSync(
      process.execPath,
      [REPLICA_MAIN, '--model', '/nonexistent/model.onnx', '--name', 'x', '--version', '1'],
      { encoding: 'utf8' },
    );
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(
      /^stratum replica: ENOENT: no such file or directory, open '\/nonexistent\/model.onnx'\n$/m,
    );
  });
});
