/**
 * `npm run bench`: every benchmark in bench/, one after the other (each its own process, so one
 * failing does not stop the rest), then BENCHMARKS.md from the JSON each wrote during this run.
 *
 *   node bench/dist/run-all.js [--quick] [--soak-minutes N] [--only fanout,soak,...]
 *
 * --quick runs each benchmark's short variant (a few minutes in all); --only runs a subset and
 * writes bench/results/BENCHMARKS-partial.md instead of BENCHMARKS.md. Each benchmark's output
 * is also kept in bench/results/logs/NAME.log.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem, type as osType } from 'node:os';
import { join } from 'node:path';

import { renderMarkdown, type BenchRun, type RunRecord } from './markdown';
import { ensurePeerVenv, peerVersions } from './peer';
import { RESULTS_DIR } from './report';
import { REPO } from './system';

interface Bench {
  readonly name: string;
  /** The JSON it writes under bench/results/, by mode. */
  readonly result: (quick: boolean) => string;
  readonly args: (quick: boolean, soakMinutes: string | undefined) => string[];
}

const quickName = (name: string) => (quick: boolean) => (quick ? `${name}-quick` : name);
const quickFlag = (quick: boolean) => (quick ? ['--quick'] : []);

export const BENCHES: readonly Bench[] = [
  { name: 'fanout', result: () => 'fanout', args: quickFlag },
  { name: 'serving', result: quickName('serving'), args: quickFlag },
  { name: 'coldstart', result: () => 'coldstart', args: quickFlag },
  { name: 'ramp', result: quickName('ramp'), args: quickFlag },
  { name: 'profiler-accuracy', result: quickName('profiler-accuracy'), args: quickFlag },
  { name: 'serving-matrix', result: quickName('serving-matrix'), args: quickFlag },
  { name: 'memory', result: quickName('memory'), args: quickFlag },
  {
    name: 'soak',
    result: quickName('soak'),
    args: (quick, minutes) => [...quickFlag(quick), ...(minutes ? ['--minutes', minutes] : [])],
  },
];

function flag(name: string): string | undefined {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? process.argv[at + 1] : undefined;
}

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: REPO, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

function packageVersion(path: string): string {
  return (JSON.parse(readFileSync(path, 'utf8')) as { version: string }).version;
}

/** One benchmark as a child process; its output goes to the console and to its log. */
function runBench(b: Bench, args: string[]): Promise<{ exitCode: number; seconds: number }> {
  const logs = join(RESULTS_DIR, 'logs');
  mkdirSync(logs, { recursive: true });
  const log = createWriteStream(join(logs, `${b.name}.log`));
  const t0 = performance.now();
  console.error(`\n=== bench: ${b.name} ${args.join(' ')}`);
  const child = spawn(process.execPath, [join(__dirname, `${b.name}.js`), ...args], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (d: Buffer) => {
    process.stdout.write(d);
    log.write(d);
  });
  child.stderr.on('data', (d: Buffer) => {
    process.stderr.write(d);
    log.write(d);
  });
  return new Promise((resolve) =>
    child.once('close', (code, signal) => {
      log.end();
      resolve({ exitCode: code ?? (signal ? 128 : 1), seconds: (performance.now() - t0) / 1000 });
    }),
  );
}

/** The result file, only when this run wrote it (its machine.date is after the bench started). */
function freshResult(name: string, since: Date): unknown {
  const path = join(RESULTS_DIR, `${name}.json`);
  if (!existsSync(path)) return null;
  const data = JSON.parse(readFileSync(path, 'utf8')) as { machine?: { date?: string } };
  return data.machine?.date && new Date(data.machine.date) >= since ? data : null;
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const only = flag('only')
    ?.split(',')
    .map((s) => s.trim());
  const unknown = only?.filter((n) => !BENCHES.some((b) => b.name === n)) ?? [];
  if (unknown.length > 0)
    throw new Error(`--only: unknown benchmark ${unknown.join(', ')} (${BENCHES.map((b) => b.name).join(', ')})`);
  const soakMinutes = flag('soak-minutes');
  const startedAt = new Date();
  const t0 = performance.now();
  const peerInstallSeconds = ensurePeerVenv();

  const runs: BenchRun[] = [];
  for (const b of BENCHES.filter((x) => !only || only.includes(x.name))) {
    const args = b.args(quick, soakMinutes);
    const since = new Date();
    const loadBefore = loadavg()[0]!;
    const { exitCode, seconds } = await runBench(b, args);
    runs.push({
      name: b.name,
      command: `node bench/dist/${b.name}.js${args.length ? ` ${args.join(' ')}` : ''}`,
      resultFile: `bench/results/${b.result(quick)}.json`,
      exitCode,
      seconds,
      loadAverage: { before: loadBefore, after: loadavg()[0]! },
      result: freshResult(b.result(quick), since),
    });
  }

  const record: RunRecord = {
    mode: quick ? 'quick' : 'full',
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    startedAt: startedAt.toISOString(),
    seconds: (performance.now() - t0) / 1000,
    machine: {
      cpuModel: cpus()[0]?.model ?? 'unknown',
      cpus: cpus().length,
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      os: `${osType()} ${release()}`,
    },
    versions: {
      node: process.versions.node,
      'onnxruntime-node': packageVersion(join(REPO, 'node_modules', 'onnxruntime-node', 'package.json')),
      stratum: `${packageVersion(join(REPO, 'server', 'package.json'))} (commit ${git(['rev-parse', '--short', 'HEAD'])}${git(['status', '--porcelain', '--', 'server', 'proto', 'bench']) ? ', with uncommitted changes in server/, proto/ or bench/' : ''})`,
      ...Object.fromEntries(Object.entries(peerVersions()).map(([k, v]) => [`peer: ${k}`, v])),
    },
    peerInstallSeconds,
    benches: runs,
  };
  writeFileSync(
    join(RESULTS_DIR, only ? 'run-all-partial.json' : `run-all${quick ? '-quick' : ''}.json`),
    JSON.stringify(record, null, 2) + '\n',
  );
  const target = only ? join(RESULTS_DIR, 'BENCHMARKS-partial.md') : join(REPO, 'BENCHMARKS.md');
  writeFileSync(target, renderMarkdown(record));
  const failed = runs.filter((r) => r.exitCode !== 0 || !r.result);
  console.log(
    `\nbench: ${runs.length} benchmark(s) in ${(record.seconds / 60).toFixed(1)} min; wrote ${target}${failed.length ? `; FAILED: ${failed.map((r) => r.name).join(', ')}` : ''}`,
  );
  if (failed.length) process.exitCode = 1;
}

void main().catch((e) => {
  console.error(e);
  process.exit(1);
});
