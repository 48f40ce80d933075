/**
 * Profiles through the control plane's ProfileService: the model measured on each tier under
 * that tier's limits, progress as it goes, then the capacity analysis for a QoS when one is given.
 */
import { analyzeCapacity } from '@stratum/server/dist/profiler/capacity';
import type { CapacityReport, ModelProfile, ProfileEvent } from '@stratum/server/dist/profiler/types';
import { eventFromWire } from '@stratum/server/dist/profiler/wire';
import { parseQos } from '@stratum/server/dist/cli/profile-command';

import type { ProfileOptions } from '../types';
import type { Connection } from './connection';
import { callDeployments } from './deployments';

export interface ProfileResult {
  readonly profile: ModelProfile;
  /** Set when a QoS was given: per tier, can it meet it, with how many replicas, at what cost. */
  readonly report?: CapacityReport;
}

export async function profileModel(
  conn: Connection,
  model: string,
  o: ProfileOptions & { readonly signal?: AbortSignal; readonly onEvent?: (e: ProfileEvent) => void },
): Promise<ProfileResult> {
  const qos = o.qos ? parseQos(o.qos) : undefined;
  const profile = await conn.call((client) =>
    callDeployments('profiling', async () => {
      let done: ModelProfile | undefined;
      const stream = client.profiles.profileModel(
        { model, tiers: [...(o.tiers ?? [])], sampleRecordsJson: '' },
        { signal: o.signal },
      );
      for await (const wire of stream) {
        const e = eventFromWire(wire);
        if (!e) continue;
        o.onEvent?.(e);
        if (e.kind === 'done') done = e.profile;
      }
      if (!done) throw new Error('the control plane ended the profile without a result');
      return done;
    }),
  );
  return { profile, ...(qos ? { report: analyzeCapacity(profile, qos) } : {}) };
}
