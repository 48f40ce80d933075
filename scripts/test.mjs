#!/usr/bin/env node
// Runs every test: jest (unit, integration, end to end with real processes), then the UI
// tests in a real JupyterLab in Debian's Chromium. Ends with the plain "N passed, N failed" line.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const env = { ...process.env, STRATUM_LOG_LEVEL: 'warn' };
const only = process.argv.slice(2);

// Suites that drive real process trees (control planes, workers, replicas, Ray, JupyterLab
// kernels) run one at a time: two of them side by side on 2 cores starve each other.
const HEAVY = 'e2e\\.test|binder\\.test|notebook\\.test|kernel\\.test';

function jest(extra) {
  const out = join(mkdtempSync(join(tmpdir(), 'stratum-jest-')), 'results.json');
  const args = ['jest', '--ci', '--json', `--outputFile=${out}`, ...extra, ...only];
  const r = spawnSync('npx', args, { cwd: root, stdio: 'inherit', env });
  try {
    const res = JSON.parse(readFileSync(out, 'utf8'));
    return {
      passed: res.numPassedTests,
      failed: res.numFailedTests + res.numRuntimeErrorTestSuites,
      ok: r.status === 0,
    };
  } catch {
    return { passed: 0, failed: 1, ok: false };
  }
}

function uiTests() {
  const r = spawnSync(process.execPath, [join(root, 'ui-tests', 'run.mjs')], {
    cwd: root,
    env,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  process.stdout.write(r.stdout ?? '');
  const m = /ui-tests: (\d+) passed, (\d+) failed/.exec(r.stdout ?? '');
  return m ? { passed: Number(m[1]), failed: Number(m[2]), ok: r.status === 0 } : { passed: 0, failed: 1, ok: false };
}

const results = only.length
  ? [jest(['--maxWorkers=2'])]
  : [jest(['--maxWorkers=2', '--testPathIgnorePatterns', HEAVY]), jest(['--runInBand', '--testPathPattern', HEAVY])];
// Arguments narrow the run to jest patterns (for developers); the UI suite runs with the full suite.
if (only.length === 0) results.push(uiTests());
const passed = results.reduce((a, r) => a + r.passed, 0);
const failed = results.reduce((a, r) => a + r.failed, 0);
console.log(`\ntests: ${passed} passed, ${failed} failed`);
process.exit(results.every((r) => r.ok) && failed === 0 ? 0 : 1);
