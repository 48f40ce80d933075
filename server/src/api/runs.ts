/** RunService: thin handlers over intake (validation) and the scheduler. */
import { create } from '@bufbuild/protobuf';
import { Code, ConnectError, type ServiceImpl } from '@connectrpc/connect';
import { RunEvent_Kind, RunEventSchema, RunService, ValidateSpecResponseSchema, type RunEvent } from '@stratum/proto';

import type { Scheduler } from '../scheduler/controller';
import type { EventHub } from '../scheduler/events';
import { formatDiagnostic } from '../spec/errors';
import type { RunRepo } from '../store/runs';
import { TERMINAL } from '../store/runs';
import { intakeSpec, type IntakeDeps } from './intake';

export interface RunRoutesDeps extends IntakeDeps {
  readonly scheduler: Scheduler;
  readonly runs: RunRepo;
  readonly events: EventHub;
  readonly limits: IntakeDeps['limits'] & { readonly maxSpecBytes: number; readonly maxActiveRuns: number };
}

function checkSpecSize(text: string, max: number): void {
  const size = Buffer.byteLength(text);
  if (size > max) throw new ConnectError(`spec is ${size} bytes, over the limit of ${max} bytes`, Code.InvalidArgument);
}

function resolveRun(runs: RunRepo, id: string): string {
  const resolved = runs.resolveRunId(id);
  if (!resolved) throw new ConnectError(`run ${JSON.stringify(id.slice(0, 80))} not found`, Code.NotFound);
  return resolved;
}

export function runRoutes(d: RunRoutesDeps): ServiceImpl<typeof RunService> {
  return {
    async validateSpec(req) {
      checkSpecSize(req.specYaml, d.limits.maxSpecBytes);
      const r = await intakeSpec(req.specYaml, req.specFile || 'pipeline.yaml', req.data, d);
      return create(ValidateSpecResponseSchema, {
        diagnostics: r.diagnostics,
        trialCount: r.submit?.plans.length ?? 0,
      });
    },

    async submitRun(req) {
      checkSpecSize(req.specYaml, d.limits.maxSpecBytes);
      const active = d.runs.runsInState(1).length + d.runs.runsInState(2).length;
      if (active >= d.limits.maxActiveRuns) {
        throw new ConnectError(
          `${active} runs are active, the limit is ${d.limits.maxActiveRuns}: wait or cancel one`,
          Code.ResourceExhausted,
        );
      }
      const r = await intakeSpec(req.specYaml, req.specFile || 'pipeline.yaml', req.data, d);
      if (!r.submit) {
        throw new ConnectError(r.diagnostics.map(formatDiagnostic).join('\n'), Code.InvalidArgument, undefined, [
          { desc: ValidateSpecResponseSchema, value: { diagnostics: r.diagnostics } },
        ]);
      }
      return { run: d.scheduler.submit(r.submit) };
    },

    getRun(req) {
      return { run: d.runs.getRun(resolveRun(d.runs, req.runId)) };
    },

    listRuns(req) {
      return { runs: d.runs.listRuns(Math.min(req.limit || 50, 1000)) };
    },

    cancelRun(req) {
      return { run: d.scheduler.cancel(resolveRun(d.runs, req.runId)) };
    },

    async *watchRun(req, ctx): AsyncGenerator<RunEvent> {
      const id = resolveRun(d.runs, req.runId);
      // Subscribe before the snapshot so no change between the two is missed.
      const sub = d.events.subscribe(id, ctx.signal);
      try {
        const run = d.runs.getRun(id)!;
        yield create(RunEventSchema, { kind: RunEvent_Kind.SNAPSHOT, run, atMs: BigInt(Date.now()) });
        if (TERMINAL.has(run.state)) return;
        for await (const e of sub.events) {
          yield e;
          if (e.kind === RunEvent_Kind.RUN && e.run && TERMINAL.has(e.run.state)) return;
        }
      } finally {
        sub.close();
      }
    },
  };
}
