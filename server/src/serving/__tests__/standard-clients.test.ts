/** tritonclient (http and grpc), unchanged, against a replica process serving the scikit-learn model. */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

import { FIXTURES, PYTHON, sklearnFixture } from './fixtures';
import { spawnReplica } from './helpers';

it('tritonclient.http (binary and JSON tensors) and tritonclient.grpc get scikit-learn’s answers', async () => {
  const { dir, modelPath } = sklearnFixture();
  const replica = await spawnReplica(['--model', modelPath, '--name', 'penguins', '--version', '1']);
  try {
    const r = spawnSync(
      PYTHON,
      [join(FIXTURES, 'triton_clients.py'), replica.url, 'penguins', join(dir, 'expected.json')],
      {
        encoding: 'utf8',
      },
    );
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    const lines = r.stdout.trim().split('\n');
    expect(lines.map((l) => l.split(':')[0])).toEqual([
      'ok http',
      'ok http binary_data=True',
      'ok http binary_data=False',
      'ok http default outputs',
      'ok http gzip request',
      'ok http wrong shape',
      'ok grpc',
      'ok grpc',
      'ok grpc default outputs',
      'ok grpc wrong datatype',
    ]);
    expect(lines[5]).toBe(
      `ok http wrong shape: refused with 400: input "input": shape [1,3] does not match the model's [-1,4] (-1 takes any size)`,
    );
    expect(lines[9]).toBe(
      'ok grpc wrong datatype: refused with StatusCode.INVALID_ARGUMENT: input "input" has datatype FP64, but the model takes FP32',
    );
  } finally {
    await replica.stop();
  }
});
