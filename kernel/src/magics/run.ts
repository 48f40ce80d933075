/**
 * Runs `%stratum` magics: each command is a few lines over the notebook API (one
 * implementation for magics and code) and the renderers.
 */
import { profileBundles, profileProgressBundle } from '../render/profiles';
import { State } from '@stratum/proto';
import { UsageError, type FlagValue } from '@stratum/server/dist/cli/args';

import { StratumError } from '../api/errors';
import { describePipeline } from '../api/pipelines';
import { parseRowsJson } from '../api/predict';
import type { Stratum } from '../api/stratum';
import {
  clusterBundle,
  curvesBundle,
  messageBundle,
  modelsBundle,
  predictionsBundle,
  runBundle,
  runsBundle,
} from '../render/bundles';
import { deploymentsBundle, planBundle } from '../render/deployments';
import type { CellOutput } from '../types';
import { magicUsage, overview } from './commands';
import { parseMagicCell, type MagicInvocation } from './parse';

export interface MagicContext {
  readonly stratum: Stratum;
  readonly out: CellOutput;
  /** The notebook's directory: relative spec paths and data sources resolve against it. */
  readonly cwd: string;
  /** Aborted when the kernel is interrupted. */
  readonly signal?: AbortSignal;
  /** Binds a value to a variable of the TypeScript session, typed as `type`. */
  bind(name: string, value: unknown, type: string): Promise<void>;
}

/** The type `--as` variables get in the TypeScript session. */
export const RUN_TYPE = 'import("@stratum/kernel").Run';

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

export async function runMagicCell(code: string, ctx: MagicContext): Promise<void> {
  for (const inv of parseMagicCell(code)) await runMagic(inv, ctx);
}

function connect(flags: Readonly<Record<string, FlagValue>>): { server?: string; token?: string } {
  return {
    ...(flags.server !== undefined ? { server: String(flags.server) } : {}),
    ...(flags.token !== undefined ? { token: String(flags.token) } : {}),
  };
}

async function runMagic(inv: MagicInvocation, ctx: MagicContext): Promise<void> {
  const { command, args, flags } = inv.command;
  const { stratum, out } = ctx;
  const conn = connect(flags);
  switch (command) {
    case 'help': {
      const text = args[0] ? magicUsage(args[0]) : overview();
      if (!text) throw new UsageError(`unknown command "${args[0]}"`);
      out.stream('stdout', text + '\n');
      return;
    }
    case 'status':
      out.display(clusterBundle(await stratum.cluster(conn)));
      return;
    case 'pipeline': {
      if (!inv.body?.trim()) throw new UsageError(`pipeline ${args[0]} has no YAML below its first line`, 'pipeline');
      out.display(messageBundle(describePipeline(stratum.pipeline(args[0]!, inv.body, ctx.cwd))));
      return;
    }
    case 'train':
      return train(args[0]!, flags, ctx);
    case 'runs':
      out.display(runsBundle(await stratum.runs({ ...conn, limit: Number(flags.limit ?? 20) })));
      return;
    case 'leaderboard': {
      const run = flags.watch
        ? await stratum.watch(args[0]!, { ...conn, output: out })
        : await stratum.run(args[0]!, conn);
      if (flags.watch) return;
      out.display(runBundle(run));
      const curves = curvesBundle(run);
      if (curves) out.display(curves);
      return;
    }
    case 'cancel':
      out.display(runBundle(await stratum.cancel(args[0]!, conn)));
      return;
    case 'models':
      out.display(modelsBundle(await stratum.models(args[0] ?? '', conn)));
      return;
    case 'profile': {
      const id = `stratum-profile-${Date.now()}`;
      let shown = false;
      const result = await stratum.profile(args[0]!, {
        ...conn,
        tiers: flags.tiers as string[] | undefined,
        qos: flags.qos as string | undefined,
        onEvent: (e) => {
          const b = profileProgressBundle(e);
          if (!b) return;
          out.display(b, { id, update: shown });
          shown = true;
        },
      });
      for (const b of profileBundles(result)) out.display(b);
      return;
    }
    case 'deploy':
      return deployMagic(args[0]!, flags, ctx);
    case 'deployments':
      out.display(deploymentsBundle(await stratum.deployments(conn)));
      return;
    case 'undeploy': {
      const d = await stratum.undeploy(args[0]!, conn);
      out.display(messageBundle(`undeployed ${d.name}`));
      return;
    }
    case 'predict': {
      const rows = parseRowsJson(args[1]!);
      const model = flags.model as string | undefined;
      // As the CLI: --api-key, else $STRATUM_API_KEY (which keeps the key out of the notebook).
      const apiKey = flags['api-key'] !== undefined ? String(flags['api-key']) : process.env.STRATUM_API_KEY;
      const answer = await stratum.predict(args[0]!, rows, {
        ...conn,
        model,
        signal: ctx.signal,
        ...(apiKey ? { apiKey } : {}),
      });
      out.display(predictionsBundle(rows, answer));
      return;
    }
    default:
      throw new UsageError(`%stratum ${command} has no implementation in this kernel`);
  }
}

async function deployMagic(
  model: string,
  flags: Readonly<Record<string, FlagValue>>,
  ctx: MagicContext,
): Promise<void> {
  if (!flags.tier) throw new UsageError('deploy needs --tier T (cloud, fog, edge, or a tier of yours)', 'deploy');
  const o = {
    ...connect(flags),
    tier: String(flags.tier),
    ...(flags.qos !== undefined ? { qos: String(flags.qos) } : {}),
    ...(flags.min !== undefined ? { minReplicas: count('min', flags.min) } : {}),
    ...(flags.max !== undefined ? { maxReplicas: count('max', flags.max) } : {}),
    ...(flags.name !== undefined ? { name: String(flags.name) } : {}),
    ...(flags.fallback !== undefined ? { fallbackTiers: flags.fallback as string[] } : {}),
    ...(flags.wait !== undefined ? { waitSeconds: Number(flags.wait) } : {}),
    ...(flags['require-key'] === true ? { requireKey: true } : {}),
  };
  if (flags['dry-run']) ctx.out.display(planBundle(await ctx.stratum.planDeployment(model, o)));
  else await ctx.stratum.deploy(model, { ...o, output: ctx.out });
}

function count(flag: string, v: FlagValue): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0)
    throw new UsageError(`--${flag} expects a whole number ≥ 0, got ${String(v)}`, 'deploy');
  return n;
}

async function train(target: string, flags: Readonly<Record<string, FlagValue>>, ctx: MagicContext): Promise<void> {
  const as = flags.as === undefined ? undefined : String(flags.as);
  if (as !== undefined && !IDENTIFIER.test(as)) {
    throw new UsageError(`--as needs a TypeScript identifier, got "${as}"`, 'train');
  }
  const watch = flags.watch !== false;
  const detach = Boolean(flags.detach);
  const run = await ctx.stratum.train(target, {
    ...connect(flags),
    cwd: ctx.cwd,
    detach,
    watch,
    ...(watch ? { output: ctx.out } : {}),
  });
  if (detach) {
    const id = run.id.slice(0, 8);
    ctx.out.display(
      messageBundle(`run ${id} submitted: ${run.trials.length} trial(s); %stratum leaderboard ${id} shows it`),
    );
  } else if (!watch) {
    ctx.out.display(runBundle(run));
  }
  if (as) await ctx.bind(as, run, RUN_TYPE);
  if (run.state === State.FAILED || run.state === State.CANCELLED) {
    const why = run.stateReason ? `: ${run.stateReason}` : '';
    throw new StratumError('RunFailed', `run ${run.id.slice(0, 8)} ${State[run.state]!.toLowerCase()}${why}`);
  }
}
