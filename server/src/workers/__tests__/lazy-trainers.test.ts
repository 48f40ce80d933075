/**
 * The long-lived processes do not load the trainers (tfjs above all) they never run: only a
 * trial executor does, on its first trial. Each module is required in a fresh Node process from
 * the built dist (`npx tsc -b` first), which then lists the tfjs files it loaded.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const DIST = join(__dirname, '..', '..', '..', 'dist');

function loaded(module: string): { tfjs: string[]; rssMiB: number } {
  const script = `require(${JSON.stringify(join(DIST, module))});
    const tfjs = Object.keys(require.cache).filter((f) => f.includes('@tensorflow'));
    process.stdout.write(JSON.stringify({ tfjs, rssMiB: process.memoryUsage().rss / 2 ** 20 }));
    process.exit(0);`;
  return JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' })) as {
    tfjs: string[];
    rssMiB: number;
  };
}

describe('trainers load lazily', () => {
  it.each([
    ['the control plane (stratum serve)', 'cli/serve.js'],
    ['the worker agent', 'workers/agent.js'],
    ['the executor pool', 'workers/executor.js'],
    ['the gateway', 'deploy/gateway/gateway.js'],
  ])('%s loads no tfjs module', (what, module) => {
    const r = loaded(module);
    console.log(`${what}: ${r.rssMiB.toFixed(1)} MiB resident after loading ${module}`);
    expect(r.tfjs).toEqual([]);
  });

  it('an in-process executor still runs tfjs when a trial asks for it', () => {
    // The same lookup the executor makes on its first trial, so the lazy path resolves.
    const script = `const { createTrainerRegistry, builtinTrainers } = require(${JSON.stringify(join(DIST, 'trainers', 'registry.js'))});
      process.stdout.write(JSON.stringify({ has: createTrainerRegistry(builtinTrainers()).has('tfjs'),
        tfjs: Object.keys(require.cache).some((f) => f.includes('@tensorflow')) }));
      process.exit(0);`;
    expect(JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }))).toEqual({
      has: true,
      tfjs: true,
    });
  });
});
