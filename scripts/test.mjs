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

function jest() {
  const out = join(mkdtempSync(join(tmpdir(), 'stratum-jest-')), 'results.json');
  const args = ['jest', '--ci', '--maxWorkers=2', '--json', `--outputFile=${out}`, ...only];
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

const results = [jest()];
// Arguments narrow the run to jest patterns (for developers); the UI suite runs with the full suite.
if (only.length === 0) results.push(uiTests());
const passed = results.reduce((a, r) => a + r.passed, 0);
const failed = results.reduce((a, r) => a + r.failed, 0);
console.log(`\ntests: ${passed} passed, ${failed} failed`);
process.exit(results.every((r) => r.ok) && failed === 0 ? 0 : 1);
