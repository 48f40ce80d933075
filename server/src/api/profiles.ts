/**
 * ProfileService: profiles registered models on tiers (in a child process, one profile at a
 * time, since two at once would measure each other), stores each profile with its model, and
 * analyses a profile against a QoS. `profileQosCheck` gives the deployment plan its verdict.
 */
import { Code, ConnectError, type ServiceImpl } from '@connectrpc/connect';
import { ProfileService, type DeployRequest, type Model } from '@stratum/proto';

import { selectTiers, type Tier } from '../config/tiers';
import { analyzeCapacity, qosCheck } from '../profiler/capacity';
import { sweepSettings } from '../profiler/profiler';
import { ProfileLock } from '../profiler/lock';
import type { ProfileRepo } from '../profiler/repo';
import { processRunner, type ProfileRunner } from '../profiler/runner';
import type { ModelProfile, SweepSettings } from '../profiler/types';
import {
  asksQos,
  eventToWire,
  profileToWire,
  qosFromWire,
  reportToWire,
  settingsFromWire,
  tierToWire,
} from '../profiler/wire';
import type { ArtifactStore } from '../store/artifacts';
import type { ModelRepo } from '../store/models';

export interface ProfileRoutesDeps {
  readonly models: ModelRepo;
  readonly artifacts: ArtifactStore;
  readonly profiles: ProfileRepo;
  /** The known tiers: DEFAULT_TIERS with $STRATUM_HOME/tiers.yaml applied (config/tiers.ts loadTiers). */
  readonly tiers: () => Tier[];
  /** Default: a profile-main child process per profile. */
  readonly runner?: ProfileRunner;
  /** Shared with run finalization's candidate profiles; default: one of its own. */
  readonly lock?: ProfileLock;
}

function modelRef(ref: string): { name: string; version: number } {
  const [name, v, ...rest] = ref.split(':');
  const version = v === undefined ? 0 : Number(v);
  if (!name || rest.length > 0 || !Number.isInteger(version) || version < 0)
    throw new ConnectError(
      `bad model reference ${JSON.stringify(ref.slice(0, 80))}: use NAME or NAME:VERSION`,
      Code.InvalidArgument,
    );
  return { name, version };
}

function findModel(models: ModelRepo, ref: string): Model {
  const { name, version } = modelRef(ref);
  const m = models.get(name, version);
  if (!m) throw new ConnectError(`model ${JSON.stringify(ref.slice(0, 80))} not found`, Code.NotFound);
  return m;
}

function invalid<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw new ConnectError(e instanceof Error ? e.message : String(e), Code.InvalidArgument);
  }
}

function records(json: string): Record<string, unknown>[] | undefined {
  if (!json.trim()) return undefined;
  const value = invalid(() => JSON.parse(json) as unknown);
  if (
    !Array.isArray(value) ||
    value.length === 0 ||
    !value.every((r) => r && typeof r === 'object' && !Array.isArray(r))
  )
    throw new ConnectError('sample_records_json must be a JSON array of records (objects)', Code.InvalidArgument);
  return value as Record<string, unknown>[];
}

export function profileRoutes(d: ProfileRoutesDeps): ServiceImpl<typeof ProfileService> {
  const runner = d.runner ?? processRunner;
  const lock = d.lock ?? new ProfileLock();
  const profileOf = (id: string, ref: string): ModelProfile => {
    if (id) {
      const p = d.profiles.get(id);
      if (!p) throw new ConnectError(`profile ${JSON.stringify(id.slice(0, 80))} not found`, Code.NotFound);
      return p;
    }
    const m = findModel(d.models, ref);
    const p = d.profiles.latest(m.name, m.version);
    if (!p)
      throw new ConnectError(
        `model ${m.name}:${m.version} has no profile yet: run \`stratum profile ${m.name}\``,
        Code.NotFound,
      );
    return p;
  };
  return {
    async *profileModel(req, ctx) {
      const model = findModel(d.models, req.model);
      if (model.format !== 'onnx')
        throw new ConnectError(
          `model ${model.name}:${model.version} is stored as ${model.format}, not ONNX, so it cannot be profiled`,
          Code.FailedPrecondition,
        );
      const tiers = invalid(() => selectTiers(d.tiers(), req.tiers));
      const settings: SweepSettings = invalid(() => sweepSettings(settingsFromWire(req.settings)));
      const samples = records(req.sampleRecordsJson);
      const running = `${model.name}:${model.version}`;
      if (!lock.tryAcquire(running))
        throw new ConnectError(
          `a profile of ${lock.busy} is running; profiles run one at a time so they do not measure each other`,
          Code.ResourceExhausted,
        );
      try {
        const job = {
          modelPath: d.artifacts.pathOf(model.digest),
          model: { name: model.name, version: model.version, digest: model.digest, sizeBytes: Number(model.sizeBytes) },
          tiers,
          settings,
          ...(samples ? { inputs: { records: samples } } : {}),
        };
        let stored = false;
        for await (const event of runner(job, ctx.signal)) {
          if (event.kind !== 'done') {
            yield eventToWire(event);
            continue;
          }
          d.profiles.save(event.profile);
          stored = true;
          yield eventToWire(event, asksQos(req.qos) ? analyzeCapacity(event.profile, qosFromWire(req.qos)) : undefined);
        }
        if (!stored) throw new Error('the profiler ended without a profile');
      } catch (e) {
        if (e instanceof ConnectError) throw e;
        throw new ConnectError(
          `profiling ${running} failed: ${e instanceof Error ? e.message : String(e)}`,
          Code.Internal,
        );
      } finally {
        lock.release();
      }
    },
    getProfile(req) {
      const p = profileOf(req.id, req.model);
      return {
        profile: profileToWire(p),
        ...(asksQos(req.qos) ? { report: reportToWire(analyzeCapacity(p, qosFromWire(req.qos))) } : {}),
      };
    },
    listProfiles(req) {
      return { profiles: d.profiles.list(req.model || undefined).map(profileToWire) };
    },
    listTiers() {
      return { tiers: d.tiers().map(tierToWire) };
    },
  };
}

/** The deployment plan's QoS verdict from the newest profile of the model version on the tier. */
export function profileQosCheck(
  profiles: ProfileRepo,
): (model: Model, tier: string, qos: DeployRequest['qos']) => { ok: boolean; message: string } {
  return (model, tier, qos) => {
    const p = profiles.latest(model.name, model.version, tier);
    if (!p)
      return {
        ok: false,
        message: `no profile of ${model.name}:${model.version} on ${tier}: run \`stratum profile ${model.name}:${model.version} --tiers ${tier}\``,
      };
    return qosCheck(p, tier, qosFromWire(qos));
  };
}
