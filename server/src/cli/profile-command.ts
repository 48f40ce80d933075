/**
 * `stratum profile MODEL --tiers edge,fog,cloud [--qos p99=20ms,rps=200] [--json]`: what a
 * model needs on each tier, and where it fits a QoS. MODEL is a registered model (NAME or
 * NAME:VERSION: the control plane profiles it and stores the profile) or an .onnx file (profiled
 * here, nothing stored). Progress goes to stderr, a line per point (a bar on a terminal); the
 * tables and the recommendation (or, with --json, the profile and report) to stdout.
 */
import { createClient } from '@connectrpc/connect';
import { ProfileService } from '@stratum/proto';
import { existsSync, readFileSync, statSync } from 'node:fs';

import { clientToken, stratumHome } from '../config/home';
import { loadTiers, selectTiers } from '../config/tiers';
import { createTransport } from '../client';
import { analyzeCapacity, NO_QOS } from '../profiler/capacity';
import { profileModel } from '../profiler/profiler';
import { eventLine, profileText, progressBar, reportText } from '../profiler/text';
import type { ModelProfile, ProfileEvent, QosAsk, SweepSettings } from '../profiler/types';
import { eventFromWire, settingsToWire } from '../profiler/wire';
import { parseDurationMs } from '../spec/quantities';
import { UsageError, type CommandSpec, type FlagValue } from './args';
import { serverUrl, type Io } from './client-commands';

type Flags = Readonly<Record<string, FlagValue>>;

export const PROFILE_COMMAND: CommandSpec = {
  name: 'profile',
  summary: 'Measure what a model needs on each tier (latency, throughput, memory) and where it fits a QoS.',
  args: [{ name: 'MODEL', required: true, description: 'registered model NAME[:VERSION], or an .onnx file' }],
  flags: {
    server: {
      type: 'string',
      value: 'URL',
      description: 'control plane URL (default $STRATUM_SERVER or http://127.0.0.1:7070)',
    },
    token: {
      type: 'string',
      value: 'TOKEN',
      description: 'API token (default $STRATUM_TOKEN or $STRATUM_HOME/api-token)',
    },
    json: { type: 'boolean', description: 'print the profile (and report) as JSON' },
    tiers: {
      type: 'list',
      value: 'T,...',
      description: 'tiers to profile on (default: all; see $STRATUM_HOME/tiers.yaml)',
    },
    qos: {
      type: 'string',
      value: 'Q',
      description: 'p99=20ms,p95=..,p50=..,rps=200,cost=0.30: recommend a tier for it',
    },
    'batch-sizes': { type: 'list', value: 'N,...', description: 'max batch sizes to sweep (default 1,2,4,8,16)' },
    concurrency: { type: 'list', value: 'N,...', description: 'concurrency levels to sweep (default 1,2,4,8)' },
    'window-ms': { type: 'number', value: 'MS', description: 'measurement window (default 250)' },
    'max-point-ms': {
      type: 'number',
      value: 'MS',
      description: 'longest time per point before it counts as unstable (default 1500)',
    },
    tolerance: { type: 'number', value: 'F', description: 'windows agree within this fraction (default 0.1)' },
    records: {
      type: 'string',
      value: '@FILE',
      description: 'sample records (JSON array) for a model with a Stratum preprocessor',
    },
  },
};

/** `p99=20ms,rps=200,cost=0.30` → a QoS; any mistake is a UsageError naming it. */
export function parseQos(text: string): QosAsk {
  const q = { ...NO_QOS };
  for (const part of text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [key, value, ...rest] = part.split('=');
    if (!key || value === undefined || rest.length > 0)
      throw new UsageError(`--qos: "${part}" is not KEY=VALUE`, 'profile');
    const latency = { p99: 'p99Ms', p95: 'p95Ms', p50: 'p50Ms' } as const;
    if (key in latency) {
      try {
        q[latency[key as keyof typeof latency]] = parseDurationMs(/^[0-9.]+$/.test(value) ? `${value}ms` : value);
      } catch (e) {
        throw new UsageError(`--qos ${key}: ${(e as Error).message}`, 'profile');
      }
      continue;
    }
    if (key !== 'rps' && key !== 'cost')
      throw new UsageError(`--qos: unknown key "${key}" (p99, p95, p50, rps, cost)`, 'profile');
    const n = Number(value.replace(/^\$/, '').replace(/\/h$/, ''));
    if (!Number.isFinite(n) || n < 0)
      throw new UsageError(`--qos ${key}: expects a number ≥ 0, got "${value}"`, 'profile');
    if (key === 'rps') q.rps = n;
    else q.maxCostPerHour = n;
  }
  return q;
}

const ints = (flag: string, v: FlagValue | undefined): number[] | undefined => {
  if (v === undefined) return undefined;
  const list = (v as string[]).map(Number);
  if (list.length === 0 || !list.every((n) => Number.isInteger(n) && n >= 1))
    throw new UsageError(
      `--${flag} expects whole numbers ≥ 1 separated by commas, got "${(v as string[]).join(',')}"`,
      'profile',
    );
  return list;
};

export function sweepFlags(flags: Flags): Partial<SweepSettings> {
  const batchSizes = ints('batch-sizes', flags['batch-sizes']);
  const concurrency = ints('concurrency', flags.concurrency);
  return {
    ...(batchSizes ? { batchSizes } : {}),
    ...(concurrency ? { concurrency } : {}),
    ...(flags['window-ms'] !== undefined ? { windowMs: Number(flags['window-ms']) } : {}),
    ...(flags['max-point-ms'] !== undefined ? { maxPointMs: Number(flags['max-point-ms']) } : {}),
    ...(flags.tolerance !== undefined ? { tolerance: Number(flags.tolerance) } : {}),
  };
}

function readRecords(flags: Flags): Record<string, unknown>[] | undefined {
  if (flags.records === undefined) return undefined;
  const raw = String(flags.records);
  try {
    const value = JSON.parse(raw.startsWith('@') ? readFileSync(raw.slice(1), 'utf8') : raw) as unknown;
    if (Array.isArray(value)) return value as Record<string, unknown>[];
  } catch (e) {
    throw new UsageError(`--records: ${(e as Error).message}`, 'profile');
  }
  throw new UsageError('--records must be a JSON array of records (or @file.json holding one)', 'profile');
}

/** Writes progress to stderr: a line per event, or a redrawn bar on a terminal. */
function progressWriter(io: Io): (e: ProfileEvent) => void {
  let bar = false;
  return (e) => {
    if (io.isTTY && e.kind === 'point') {
      const label = `${e.tier} batch ${e.point.batchSize} × ${e.point.concurrency}: ${e.point.throughput.toFixed(0)} req/s, p99 ${e.point.p99Ms.toFixed(2)} ms`;
      io.err(`${bar ? '\x1b[1A\x1b[J' : ''}${progressBar(e.done, e.total, label)}`);
      bar = true;
      return;
    }
    const line = eventLine(e);
    if (line) io.err(line);
    bar = false;
  };
}

async function profileRemote(ref: string, flags: Flags, io: Io): Promise<ModelProfile> {
  const token = flags.token ? String(flags.token) : clientToken();
  const client = createClient(ProfileService, createTransport({ url: serverUrl(flags), ...(token ? { token } : {}) }));
  const records = readRecords(flags);
  const show = progressWriter(io);
  let profile: ModelProfile | undefined;
  for await (const wire of client.profileModel({
    model: ref,
    tiers: (flags.tiers as string[] | undefined) ?? [],
    settings: settingsToWire({ ...NO_SETTINGS, ...sweepFlags(flags) }),
    sampleRecordsJson: records ? JSON.stringify(records) : '',
  })) {
    const e = eventFromWire(wire);
    if (!e) continue;
    show(e);
    if (e.kind === 'done') profile = e.profile;
  }
  if (!profile) throw new Error('the control plane ended the profile without a result');
  return profile;
}

/** Zeros: the control plane's defaults apply to everything a flag does not set. */
const NO_SETTINGS: SweepSettings = {
  batchSizes: [],
  concurrency: [],
  maxQueueDelayMs: 0,
  warmupMs: 0,
  windowMs: 0,
  stableWindows: 0,
  tolerance: 0,
  maxPointMs: 0,
  openLoopFractions: [],
};

export async function profile(args: readonly string[], flags: Flags, io: Io): Promise<number> {
  const target = args[0]!;
  const qos = flags.qos !== undefined ? parseQos(String(flags.qos)) : undefined;
  const isFile = target.endsWith('.onnx') || (existsSync(target) && statSync(target).isFile());
  let result: ModelProfile;
  if (isFile) {
    if (!existsSync(target)) throw new UsageError(`no such model file: ${target}`, 'profile');
    const records = readRecords(flags);
    let tiers;
    try {
      tiers = selectTiers(loadTiers(stratumHome()), (flags.tiers as string[] | undefined) ?? []);
    } catch (e) {
      throw new UsageError((e as Error).message, 'profile');
    }
    result = await profileModel({
      modelPath: target,
      model: { name: target.replace(/^.*\//, '').replace(/\.onnx$/, '') },
      tiers,
      settings: sweepFlags(flags),
      ...(records ? { inputs: { records } } : {}),
      onEvent: progressWriter(io),
    });
  } else {
    result = await profileRemote(target, flags, io);
  }
  const report = qos ? analyzeCapacity(result, qos) : undefined;
  if (flags.json) {
    io.out(JSON.stringify({ profile: result, ...(report ? { report } : {}) }, null, 2));
    return 0;
  }
  io.out(profileText(result));
  io.out('');
  io.out(report ? reportText(report) : 'give --qos p99=20ms,rps=200 for a recommendation');
  return 0;
}
