/**
 * Hardware tiers: what a cloud, fog or edge box offers a model replica, and what it costs.
 * cloud, fog and edge exist by default; `$STRATUM_HOME/tiers.yaml` (YAML or JSON) adds tiers
 * or replaces a default one of the same name:
 *
 *   tiers:
 *     - name: edge
 *       cpus: 0.5          # fractional below one core: a CPU quota on one core (profiler/emulation.ts)
 *       threads: 1         # onnxruntime intra-op threads (default: whole cpus, at least 1)
 *       memory: 256Mi      # or memoryMb: 256
 *       costPerHour: 0.02
 *       labels: { arch: arm64 }
 *
 * Every problem is reported with the file, line:column and field, all at once.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isMap, isNode, isScalar, LineCounter, parseDocument, type Document } from 'yaml';

import { nearest } from '../cli/args';
import { parseQuantityMiB } from '../spec/quantities';

export interface Tier {
  readonly name: string;
  /** Cores; may be fractional. */
  readonly cpus: number;
  /** onnxruntime intra-op threads of a replica on this tier. */
  readonly threads: number;
  readonly memoryMb: number;
  readonly gpus: number;
  /** Price of one replica's share of the tier for an hour, in dollars. */
  readonly costPerHour: number;
  readonly labels: Readonly<Record<string, string>>;
}

export const DEFAULT_TIERS: readonly Tier[] = [
  { name: 'cloud', cpus: 2, threads: 2, memoryMb: 4096, gpus: 0, costPerHour: 0.4, labels: { tier: 'cloud' } },
  { name: 'fog', cpus: 1, threads: 1, memoryMb: 1024, gpus: 0, costPerHour: 0.1, labels: { tier: 'fog' } },
  { name: 'edge', cpus: 0.5, threads: 1, memoryMb: 256, gpus: 0, costPerHour: 0.02, labels: { tier: 'edge' } },
];

export const TIERS_FILES = ['tiers.yaml', 'tiers.yml', 'tiers.json'] as const;

/** A tier file that does not validate: every problem, each as `file:line:column: field: message`. */
export class TierFileError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join('\n'));
    this.name = 'TierFileError';
  }
}

const TIER_KEYS = ['name', 'cpus', 'threads', 'memory', 'memoryMb', 'gpus', 'costPerHour', 'labels'];
const TIER_NAME = /^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/;

type Raw = Record<string, unknown>;

/** Parses and validates a tier file's text; returns the tiers it defines (without the defaults). */
export function parseTiersFile(text: string, file: string): Tier[] {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const problems: string[] = [];
  const at = (path: (string | number)[], message: string): void => {
    const onKey = message.startsWith('unknown key');
    problems.push(`${file}:${locate(doc, lines, path, onKey)}: ${fieldName(path)}: ${message}`);
  };
  for (const e of doc.errors) {
    const pos = e.linePos?.[0];
    problems.push(`${file}:${pos ? `${pos.line}:${pos.col}` : '1:1'}: ${e.message.split('\n')[0]}`);
  }
  if (problems.length > 0) throw new TierFileError(problems);
  const root = doc.toJS() as unknown;
  const list = isRecord(root) ? root.tiers : undefined;
  if (!isRecord(root) || !Array.isArray(list)) {
    throw new TierFileError([`${file}:1:1: tiers: the file must hold a list under "tiers:" (see DEFAULT_TIERS)`]);
  }
  for (const key of Object.keys(root).filter((k) => k !== 'tiers')) at([key], `unknown key (only "tiers" is read)`);
  const seen = new Set<string>();
  const tiers: Tier[] = [];
  list.forEach((item: unknown, i) => {
    if (!isRecord(item)) return at(['tiers', i], 'each tier must be a mapping with name, cpus and memory');
    const tier = readTier(item, (field, message) => at(['tiers', i, ...(field ? [field] : [])], message));
    if (!tier) return;
    if (seen.has(tier.name)) return at(['tiers', i, 'name'], `tier "${tier.name}" is defined twice`);
    seen.add(tier.name);
    tiers.push(tier);
  });
  if (problems.length > 0) throw new TierFileError(problems);
  return tiers;
}

function readTier(o: Raw, problem: (field: string, message: string) => void): Tier | null {
  let errors = 0;
  const bad = (field: string, message: string): void => {
    errors++;
    problem(field, message);
  };
  for (const key of Object.keys(o).filter((k) => !TIER_KEYS.includes(k))) {
    const hint = nearest(key, TIER_KEYS);
    bad(key, `unknown key${hint ? ` (did you mean "${hint}"?)` : ''}; a tier has ${TIER_KEYS.join(', ')}`);
  }
  const name = o.name;
  if (typeof name !== 'string' || !TIER_NAME.test(name))
    bad('name', `must be lowercase letters, digits and dashes (at most 32), got ${show(name)}`);
  const base = DEFAULT_TIERS.find((t) => t.name === name);
  const num = (field: string, min: number, strict: boolean, integer: boolean, fallback?: number): number => {
    const v = o[field] ?? fallback;
    const ok =
      typeof v === 'number' && Number.isFinite(v) && (strict ? v > min : v >= min) && (!integer || Number.isInteger(v));
    if (!ok) {
      const what = `${integer ? 'a whole number' : 'a number'} ${strict ? '>' : '≥'} ${min}`;
      bad(field, v === undefined ? `is required (${what})` : `must be ${what}, got ${show(v)}`);
      return 0;
    }
    return v as number;
  };
  const cpus = num('cpus', 0, true, false, base?.cpus);
  const threads = num('threads', 1, false, true, base?.threads ?? Math.max(1, Math.floor(cpus)));
  let memoryMb = base?.memoryMb ?? 0;
  if (o.memory !== undefined && o.memoryMb !== undefined) bad('memoryMb', 'give memory or memoryMb, not both');
  else if (o.memory !== undefined) {
    try {
      memoryMb = parseQuantityMiB(o.memory as string | number);
      if (!(memoryMb > 0)) bad('memory', `must be above zero, got ${show(o.memory)}`);
    } catch (e) {
      bad('memory', e instanceof RangeError ? e.message : `not a size: ${show(o.memory)}`);
    }
  } else memoryMb = num('memoryMb', 0, true, false, base?.memoryMb);
  const gpus = num('gpus', 0, false, true, base?.gpus ?? 0);
  const costPerHour = num('costPerHour', 0, false, false, base?.costPerHour ?? 0);
  const labels = o.labels ?? base?.labels ?? {};
  if (!isRecord(labels) || !Object.values(labels).every((v) => typeof v === 'string'))
    bad('labels', `must map names to strings, got ${show(labels)}`);
  if (errors > 0) return null;
  return { name: name as string, cpus, threads, memoryMb, gpus, costPerHour, labels: labels as Record<string, string> };
}

/** The default tiers with the user's file (if any) applied: same name replaces, new names append. */
export function loadTiers(home: string): Tier[] {
  const file = TIERS_FILES.map((f) => join(home, f)).find((p) => existsSync(p));
  if (!file) return [...DEFAULT_TIERS];
  return mergeTiers(DEFAULT_TIERS, parseTiersFile(readFileSync(file, 'utf8'), file));
}

export function mergeTiers(base: readonly Tier[], overrides: readonly Tier[]): Tier[] {
  const out = base.map((t) => overrides.find((o) => o.name === t.name) ?? t);
  return [...out, ...overrides.filter((o) => !base.some((t) => t.name === o.name))];
}

/** The named tiers in the order asked; an unknown name throws with the nearest known one. */
export function selectTiers(tiers: readonly Tier[], names: readonly string[]): Tier[] {
  if (names.length === 0) return [...tiers];
  return names.map((n) => {
    const t = tiers.find((x) => x.name === n);
    if (t) return t;
    const hint = nearest(
      n,
      tiers.map((x) => x.name),
    );
    throw new Error(
      `unknown tier "${n}"${hint ? ` (did you mean "${hint}"?)` : ''}; tiers: ${tiers.map((x) => x.name).join(', ')}`,
    );
  });
}

/** A local worker `stratum serve --tiers ...` starts for a tier, with the limits its replicas run under. */
export interface EmulatedTierWorker {
  readonly name: string;
  readonly tier: string;
  readonly resources: { readonly cpus: number; readonly memoryMb: number; readonly gpus: number };
  readonly labels: Readonly<Record<string, string>>;
  /** Applied to each replica process: `spawnUnderLimits` in profiler/tier-replica.ts. */
  readonly limits: { readonly cpus: number; readonly threads: number; readonly memoryMb: number };
}

/** One local worker per tier, offering exactly one replica's share of that tier. */
export function emulatedTierWorkers(tiers: readonly Tier[]): EmulatedTierWorker[] {
  return tiers.map((t) => ({
    name: `local-${t.name}`,
    tier: t.name,
    resources: { cpus: t.cpus, memoryMb: t.memoryMb, gpus: t.gpus },
    labels: { ...t.labels, emulated: 'true' },
    limits: { cpus: t.cpus, threads: t.threads, memoryMb: t.memoryMb },
  }));
}

const isRecord = (v: unknown): v is Raw => typeof v === 'object' && v !== null && !Array.isArray(v);
const show = (v: unknown): string => (v === undefined ? 'nothing' : JSON.stringify(v));

function fieldName(path: (string | number)[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

/** Where a field is: its value (or, with `onKey`, its key); for a missing field, the mapping around it. */
function locate(doc: Document, lines: LineCounter, path: (string | number)[], onKey = false): string {
  const pos = (offset: number): string => {
    const p = lines.linePos(offset);
    return `${p.line}:${p.col}`;
  };
  if (onKey) {
    const parent = path.length > 1 ? doc.getIn(path.slice(0, -1), true) : doc.contents;
    const pair = isMap(parent)
      ? parent.items.find((it) => isScalar(it.key) && it.key.value === path.at(-1))
      : undefined;
    if (pair && isScalar(pair.key) && pair.key.range) return pos(pair.key.range[0]);
  }
  for (let n = path.length; n > 0; n--) {
    const node = doc.getIn(path.slice(0, n), true);
    if (isNode(node) && node.range) return pos(node.range[0]);
  }
  return '1:1';
}
