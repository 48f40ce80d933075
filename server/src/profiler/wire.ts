/** Between the profiler's plain types (types.ts) and the wire types of stratum.v1 (profiles.proto). */
import { create } from '@bufbuild/protobuf';
import {
  CapacityReportSchema,
  ModelProfileSchema,
  OpenLoopPointSchema,
  ProfilePointSchema,
  ProfileProgressSchema,
  QosSchema,
  SweepSettingsSchema,
  TierProfileSchema,
  TierSpecSchema,
  TierVerdictSchema,
  type CapacityReport as WireReport,
  type ModelProfile as WireProfile,
  type OpenLoopPoint as WireOpenLoopPoint,
  type ProfilePoint as WirePoint,
  type ProfileProgress,
  type Qos,
  type SweepSettings as WireSettings,
  type TierProfile as WireTierProfile,
  type TierSpec,
} from '@stratum/proto';

import { NO_QOS } from './capacity';
import {
  DEFAULT_SWEEP,
  type CapacityReport,
  type ModelProfile,
  type OpenLoopPoint,
  type ProfileEvent,
  type ProfilePoint,
  type QosAsk,
  type SweepSettings,
  type Tier,
  type TierProfile,
} from './types';

export const tierToWire = (t: Tier): TierSpec => create(TierSpecSchema, { ...t, labels: { ...t.labels } });

export const tierFromWire = (t: TierSpec | undefined): Tier => ({
  name: t?.name ?? '',
  cpus: t?.cpus ?? 0,
  threads: t?.threads ?? 0,
  memoryMb: t?.memoryMb ?? 0,
  gpus: t?.gpus ?? 0,
  costPerHour: t?.costPerHour ?? 0,
  labels: { ...t?.labels },
});

const pointToWire = (p: ProfilePoint): WirePoint =>
  create(ProfilePointSchema, {
    ...p,
    requests: BigInt(p.requests),
    errors: BigInt(p.errors),
    firstError: p.firstError ?? '',
  });

function pointFromWire(p: WirePoint): ProfilePoint {
  const { $typeName: _, firstError, ...rest } = p;
  return { ...rest, requests: Number(p.requests), errors: Number(p.errors), ...(firstError ? { firstError } : {}) };
}

const openLoopToWire = (p: OpenLoopPoint): WireOpenLoopPoint =>
  create(OpenLoopPointSchema, { ...p, requests: BigInt(p.requests), errors: BigInt(p.errors) });

function openLoopFromWire(p: WireOpenLoopPoint): OpenLoopPoint {
  const { $typeName: _, ...rest } = p;
  return { ...rest, requests: Number(p.requests), errors: Number(p.errors) };
}

export const settingsToWire = (s: SweepSettings): WireSettings =>
  create(SweepSettingsSchema, {
    ...s,
    batchSizes: [...s.batchSizes],
    concurrency: [...s.concurrency],
    openLoopFractions: [...s.openLoopFractions],
  });

/** Zero and empty fields take the defaults (a request names only what it changes). */
export function settingsFromWire(s: WireSettings | undefined): Partial<SweepSettings> {
  if (!s) return {};
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(DEFAULT_SWEEP) as (keyof SweepSettings)[]) {
    const v = s[key];
    if (Array.isArray(v) ? v.length > 0 : v !== 0) out[key] = v;
  }
  return out as Partial<SweepSettings>;
}

const tierProfileToWire = (t: TierProfile): WireTierProfile =>
  create(TierProfileSchema, {
    ...t,
    tier: tierToWire(t.tier),
    emulation: [...t.emulation],
    points: t.points.map(pointToWire),
    openLoop: (t.openLoop ?? []).map(openLoopToWire),
  });

const tierProfileFromWire = (t: WireTierProfile): TierProfile => ({
  tier: tierFromWire(t.tier),
  fits: t.fits,
  reason: t.reason,
  loadMs: t.loadMs,
  loadMemoryMb: t.loadMemoryMb,
  peakMemoryMb: t.peakMemoryMb,
  emulation: [...t.emulation],
  points: t.points.map(pointFromWire),
  // Profiles stored before open-loop points existed have none: capacity falls back to the closed loop.
  ...(t.openLoop.length ? { openLoop: t.openLoop.map(openLoopFromWire) } : {}),
});

export const profileToWire = (p: ModelProfile): WireProfile =>
  create(ModelProfileSchema, {
    id: p.id,
    modelName: p.model.name,
    modelVersion: p.model.version,
    modelDigest: p.model.digest,
    modelSizeBytes: BigInt(p.model.sizeBytes),
    createdAtMs: BigInt(Math.round(p.createdAtMs)),
    durationMs: p.durationMs,
    settings: settingsToWire(p.settings),
    inputs: p.inputs,
    tiers: p.tiers.map(tierProfileToWire),
  });

export const profileFromWire = (p: WireProfile): ModelProfile => ({
  id: p.id,
  model: { name: p.modelName, version: p.modelVersion, digest: p.modelDigest, sizeBytes: Number(p.modelSizeBytes) },
  createdAtMs: Number(p.createdAtMs),
  durationMs: p.durationMs,
  settings: { ...DEFAULT_SWEEP, ...settingsFromWire(p.settings) },
  inputs: p.inputs,
  tiers: p.tiers.map(tierProfileFromWire),
});

export const qosFromWire = (q: Qos | undefined): QosAsk =>
  q ? { p50Ms: q.p50Ms, p95Ms: q.p95Ms, p99Ms: q.p99Ms, rps: q.rps, maxCostPerHour: q.maxCostPerHour } : NO_QOS;

/** Whether a wire QoS asks for anything. */
export const asksQos = (q: Qos | undefined): boolean =>
  !!q && [q.p50Ms, q.p95Ms, q.p99Ms, q.rps, q.maxCostPerHour].some((v) => v > 0);

export const reportToWire = (r: CapacityReport): WireReport =>
  create(CapacityReportSchema, {
    qos: create(QosSchema, r.qos),
    feasible: r.feasible,
    tiers: r.tiers.map((v) => create(TierVerdictSchema, v)),
    ...(r.best ? { best: create(TierVerdictSchema, r.best) } : {}),
  });

export function eventToWire(e: ProfileEvent, report?: CapacityReport): ProfileProgress {
  switch (e.kind) {
    case 'tier-start':
    case 'loaded':
    case 'open-loop':
      return create(ProfileProgressSchema, { kind: e.kind, tier: e.tier, message: e.message });
    case 'point':
      return create(ProfileProgressSchema, {
        kind: e.kind,
        tier: e.tier,
        point: pointToWire(e.point),
        done: e.done,
        total: e.total,
      });
    case 'tier-done':
      return create(ProfileProgressSchema, { kind: e.kind, tier: e.tier, tierProfile: tierProfileToWire(e.profile) });
    case 'done':
      return create(ProfileProgressSchema, {
        kind: e.kind,
        profile: profileToWire(e.profile),
        ...(report ? { report: reportToWire(report) } : {}),
      });
  }
}

/** A wire progress event back into the plain event (the CLI renders these). */
export function eventFromWire(p: ProfileProgress): ProfileEvent | null {
  switch (p.kind) {
    case 'tier-start':
    case 'loaded':
    case 'open-loop':
      return { kind: p.kind, tier: p.tier, message: p.message };
    case 'point':
      return p.point
        ? { kind: 'point', tier: p.tier, point: pointFromWire(p.point), done: p.done, total: p.total }
        : null;
    case 'tier-done':
      return p.tierProfile ? { kind: 'tier-done', tier: p.tier, profile: tierProfileFromWire(p.tierProfile) } : null;
    case 'done':
      return p.profile ? { kind: 'done', profile: profileFromWire(p.profile) } : null;
    default:
      return null;
  }
}
