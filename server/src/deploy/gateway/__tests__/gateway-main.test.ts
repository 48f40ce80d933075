import '../../../serving/__tests__/node-realm';

import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { startReplica } from '../../../serving/replica';
import { silentLogger } from '../../../util/log';
import { parseGatewayArgs } from '../gateway-main';
import { FakeControlPlane, http, infer, route, tinyModelFile, TOKEN, waitUntil } from './harness';

const GATEWAY_MAIN = join(__dirname, '..', '..', '..', '..', 'dist', 'deploy', 'gateway', 'gateway-main.js');

function home(token?: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'stratum-home-'));
  if (token) writeFileSync(join(dir, 'api-token'), `${token}\n`);
  return dir;
}

describe('parseGatewayArgs', () => {
  it('reads the flags, and the token from $STRATUM_TOKEN before $STRATUM_HOME/api-token', () => {
    const env = { STRATUM_HOME: home('from-file') };
    expect(parseGatewayArgs(['--control-plane', 'http://cp:7070/', '--port', '9000', '--id', 'gw-a'], env)).toEqual({
      controlPlaneUrl: 'http://cp:7070',
      gatewayId: 'gw-a',
      host: '127.0.0.1',
      token: 'from-file',
      port: 9000,
    });
    const withEnv = parseGatewayArgs(
      ['--control-plane', 'http://cp:7070', '--report-interval-ms', '250', '--buffer-timeout-ms', '5000'],
      {
        ...env,
        STRATUM_TOKEN: 'from-env',
      },
    );
    expect(withEnv).toMatchObject({
      token: 'from-env',
      reportIntervalMs: 250,
      bufferTimeoutMs: 5000,
      gatewayId: expect.stringMatching(/-\d+$/),
    });
    expect(parseGatewayArgs(['--control-plane', 'http://cp:7070'], { STRATUM_HOME: home() }).token).toBeUndefined();
  });

  it('refuses mistakes with the usage', () => {
    expect(() => parseGatewayArgs([], {})).toThrow(/^--control-plane is required\nusage: gateway-main/);
    expect(() => parseGatewayArgs(['--control-plane', 'cp:7070'], {})).toThrow(
      '--control-plane must be an http(s) URL, got "cp:7070"',
    );
    expect(() => parseGatewayArgs(['--control-plane', 'http://cp', '--port', '8o'], {})).toThrow(
      '--port must be an integer ≥ 0, got "8o"',
    );
    expect(() => parseGatewayArgs(['--control-plane', 'http://cp', '--bogus'], {})).toThrow(/bogus/);
  });
});

describe('the gateway process', () => {
  it('prints exactly one ready line, serves the routed deployments, and exits 0 on SIGTERM', async () => {
    const cp = new FakeControlPlane();
    await cp.start();
    const replica = await startReplica({
      modelPath: tinyModelFile(),
      name: 'tiny-edge',
      version: '1',
      log: silentLogger(),
    });
    cp.setRoutes([route('tiny-edge', [{ replicaId: 'r-1', url: replica.url }])]);
    const { STRATUM_TOKEN: _, ...env } = process.env;
    const child = spawn(process.execPath, [GATEWAY_MAIN, '--control-plane', cp.url, '--port', '0'], {
      env: { ...env, STRATUM_HOME: home(TOKEN), STRATUM_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      await waitUntil(() => out.includes('\n') || child.exitCode !== null, 30_000, 'the ready line');
      const m = /^stratum gateway ready on (http:\/\/127\.0\.0\.1:\d+)\n$/.exec(out);
      expect(m).not.toBeNull();
      const url = m![1]!;
      await waitUntil(async () => (await http(`${url}/v2/health/ready`)).status === 200, 20_000, 'the routing table');
      expect((await infer(url, 'tiny-edge', [[1, 2, 3, 4]])).status).toBe(200);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(out.split('\n')).toEqual([`stratum gateway ready on ${url}`, '']);
      expect(err).toBe('');
    } finally {
      child.kill('SIGKILL');
      await replica.close();
      await cp.stop();
    }
  });
});
