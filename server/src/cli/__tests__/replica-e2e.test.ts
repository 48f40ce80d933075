/**
 * The container the Kubernetes manifests describe, run as a real process: the rendered
 * Deployment's command and arguments (with `stratum` as this build's CLI) against a real control
 * plane, with the token in the environment as the Secret would put it there.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

import { CLI, cli, cliJson, freePort, REPO, serve, stop, tempHome, type Proc, GENTOO } from './harness';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A flag's value replaced in an argument list (the flag must be there). */
function withFlag(args: readonly string[], flag: string, value: string): string[] {
  const i = args.indexOf(flag);
  if (i < 0) throw new Error(`the rendered args have no ${flag}: ${args.join(' ')}`);
  return [...args.slice(0, i + 1), value, ...args.slice(i + 2)];
}

describe('stratum replica, as the Kubernetes Deployment runs it', () => {
  it('fetches the registered model, answers the readiness probe and infers like the model; SIGTERM drains', async () => {
    const home = tempHome();
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const server = await serve(home, port, ['--workers', '1']);
    let replica: Proc | undefined;
    try {
      const run = cli(['run', join(REPO, 'examples', 'penguins.yaml')], home, url);
      expect(run.code).toBe(0);
      const plan = cliJson<{ modelDigest: string; iac: Record<string, string> }>(
        ['deploy', 'penguins', '--tier', 'cloud', '--dry-run'],
        home,
        url,
      );
      const objects = parseAllDocuments(plan.iac['kubernetes.yaml']!).map((d) => d.toJS() as Obj);
      const deployment = objects.find((o) => o.kind === 'Deployment')!;
      const container = deployment.spec.template.spec.containers[0] as Obj;
      expect(container.command).toEqual(['stratum', 'replica']);
      const token = (container.env as Obj[]).find((e) => e.name === 'STRATUM_TOKEN')!;
      expect(token.valueFrom.secretKeyRef).toMatchObject({ key: 'token' });
      expect(token.value).toBeUndefined();
      const apiToken = readFileSync(join(home, 'api-token'), 'utf8').trim();
      expect(plan.iac['kubernetes.yaml']).not.toContain(apiToken);

      // The rendered args as they are, except the address: loopback and a free port here, where
      // 0.0.0.0:8080 would be open to the network and may be taken on a shared machine.
      const replicaPort = await freePort();
      const args = withFlag(withFlag(container.args as string[], '--host', '127.0.0.1'), '--port', String(replicaPort));
      const podHome = tempHome();
      // The container's env as Kubernetes resolves it, from the Secret and the ConfigMap the
      // manifest's comment asks for; its home is the mounted volume (a temporary directory here).
      const resolved = (container.env as Obj[]).map((e): [string, string] => {
        if (e.name === 'STRATUM_HOME') return [e.name, podHome];
        if (e.value !== undefined) return [e.name, String(e.value)];
        if (e.valueFrom?.secretKeyRef?.name === 'stratum-api-token') return [e.name, apiToken];
        if (e.valueFrom?.configMapKeyRef?.name === 'stratum-control-plane') return [e.name, url];
        throw new Error(`the test cannot resolve env ${JSON.stringify(e)}`);
      });
      expect(resolved.map(([name]) => name).sort()).toEqual(['STRATUM_HOME', 'STRATUM_SERVER', 'STRATUM_TOKEN']);
      const podEnv: Record<string, string | undefined> = { ...process.env };
      for (const name of ['STRATUM_SERVER', 'STRATUM_TOKEN', 'STRATUM_HOME']) delete podEnv[name];
      const child = spawn(process.execPath, [CLI, ...container.command.slice(1), ...args], {
        // Info level whatever the runner sets (npm test runs with warn): the drain is an info line.
        env: { ...podEnv, ...Object.fromEntries(resolved), STRATUM_LOG_LEVEL: 'info' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
      replica = { child, output: () => out };
      const base = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`the replica was not ready: ${out}`)), 60000);
        child.stdout!.on('data', () => {
          const m = /stratum replica penguins:\d+ ready on (\S+)/.exec(out);
          if (m) {
            clearTimeout(timer);
            resolve(m[1]!);
          }
        });
        child.once('exit', (code) => {
          clearTimeout(timer);
          reject(new Error(`the replica exited (${code}): ${out}`));
        });
      });
      expect(base).toBe(`http://127.0.0.1:${replicaPort}`);
      expect(out).not.toContain(apiToken);
      // The artifact landed in the pod's home under its digest.
      expect(existsSync(join(podHome, 'models', `${plan.modelDigest.replace(':', '-')}.onnx`))).toBe(true);

      const ready = await fetch(`${base}${container.readinessProbe.httpGet.path}`);
      expect(ready.status).toBe(200);
      expect((await fetch(`${base}${container.livenessProbe.httpGet.path}`)).status).toBe(200);

      const body = JSON.stringify({ rows: [GENTOO] });
      const res = await fetch(`${base}/v2/models/penguins/predict`, { method: 'POST', body });
      expect(res.status).toBe(200);
      const served = (await res.json()) as { predictions: string[] };
      // The registered model run locally by `stratum predict`: the same answer, probabilities included.
      const local = cli(['predict', 'penguins', '--input', body, '--json'], home, url);
      expect(local.code).toBe(0);
      expect(served).toEqual(JSON.parse(local.stdout));
      expect(served.predictions).toEqual(['Gentoo']);

      // OIP metadata names the deployment and the version the manifest gave.
      const meta = (await (await fetch(`${base}/v2/models/penguins`)).json()) as { name: string; versions: string[] };
      expect(meta.name).toBe('penguins');

      // 'close', not 'exit': the last output lines may still be in the pipes when it exits.
      const code = await new Promise<number | null>((resolve) => {
        child.once('close', (c) => resolve(c));
        child.kill('SIGTERM');
      });
      expect(code).toBe(0);
      expect(out).toMatch(/draining/);
    } finally {
      await stop(replica);
      await stop(server);
    }
  });
});
