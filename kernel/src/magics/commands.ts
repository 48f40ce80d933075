/**
 * The command table of `%stratum`, in the CLI's grammar (server/src/cli/args.ts) and with the
 * CLI's flag names where a command has a CLI twin (--server, --token, --watch, --detach, --limit).
 */
import type { CommandSpec, FlagSpec } from '@stratum/server/dist/cli/args';
import { usage } from '@stratum/server/dist/cli/args';
import { API_KEY, COMMANDS as CLI_COMMANDS } from '@stratum/server/dist/cli/commands';

/** A CLI command's spec for a magic, without the flags the magic has no use for. */
function magicOf(name: string, without: readonly string[]): CommandSpec {
  const spec = CLI_COMMANDS.find((c) => c.name === name)!;
  return { ...spec, flags: Object.fromEntries(Object.entries(spec.flags).filter(([k]) => !without.includes(k))) };
}

const CONNECT: Record<string, FlagSpec> = {
  server: {
    type: 'string',
    value: 'URL',
    description: 'control plane URL (default $STRATUM_SERVER or $STRATUM_HOME/server.json)',
  },
  token: {
    type: 'string',
    value: 'TOKEN',
    description: 'API token (default $STRATUM_TOKEN or $STRATUM_HOME/api-token)',
  },
};

const RUN_ARG = { name: 'RUN', required: true, description: 'run id or unique prefix' };

export const MAGICS: readonly CommandSpec[] = [
  {
    name: 'status',
    summary: 'Show the cluster: tiers and workers with their resources.',
    args: [],
    flags: { ...CONNECT },
  },
  {
    name: 'pipeline',
    summary: 'Define a pipeline: `%%stratum pipeline NAME` with the YAML spec as the cell body.',
    args: [{ name: 'NAME', required: true, description: 'name to train it by in this session' }],
    flags: {},
  },
  {
    name: 'train',
    summary: 'Train a pipeline on the workers, with a live progress bar and leaderboard.',
    args: [{ name: 'NAME|SPEC', required: true, description: 'a pipeline of this session or a YAML file' }],
    flags: {
      ...CONNECT,
      watch: { type: 'boolean', description: 'show live progress and the leaderboard (default true; --watch=false)' },
      detach: { type: 'boolean', description: 'submit and return the run id without waiting' },
      as: {
        type: 'string',
        value: 'VAR',
        description: 'bind the final run to a TypeScript variable, e.g. VAR.best.metrics',
      },
    },
  },
  {
    name: 'runs',
    summary: 'List runs.',
    args: [],
    flags: { ...CONNECT, limit: { type: 'number', description: 'how many (default 20)' } },
  },
  {
    name: 'leaderboard',
    summary: 'Show a run with its leaderboard and learning curves.',
    args: [RUN_ARG],
    flags: { ...CONNECT, watch: { type: 'boolean', description: 'follow until it ends' } },
  },
  {
    name: 'cancel',
    summary: 'Cancel a run and stop its trials on the workers.',
    args: [RUN_ARG],
    flags: { ...CONNECT },
  },
  {
    name: 'models',
    summary: 'List registered models.',
    args: [{ name: 'NAME', required: false, description: 'only versions of this model' }],
    flags: { ...CONNECT },
  },
  {
    name: 'profile',
    summary: "Profile a model's latency, throughput and memory on each tier.",
    args: [{ name: 'MODEL', required: true, description: 'model name, optionally NAME:VERSION' }],
    flags: {
      ...CONNECT,
      tiers: { type: 'list', value: 'T,...', description: 'tiers to profile on (default: all known tiers)' },
      qos: {
        type: 'string',
        value: 'p99=20ms,rps=200',
        description: 'QoS to check: latency budgets, throughput, max cost per hour',
      },
    },
  },
  // The CLI's own deploy entry (one definition of its flags), less what the magic does not take.
  magicOf('deploy', ['json', 'target-concurrency']),
  { name: 'deployments', summary: 'List deployments with replicas and live load.', args: [], flags: { ...CONNECT } },
  {
    name: 'undeploy',
    summary: 'Remove a deployment and stop its replicas.',
    args: [{ name: 'NAME', required: true, description: 'deployment name' }],
    flags: { ...CONNECT },
  },
  {
    name: 'predict',
    summary: 'Predict rows with an endpoint: JSON is {"rows":[{...}]} or a list of rows.',
    args: [
      {
        name: 'TARGET',
        required: true,
        description: 'replica or gateway URL (http://HOST:PORT[/v2/models/NAME]), or a deployment name',
      },
      {
        name: 'JSON',
        required: true,
        description: 'the rows (the rest of the line, or the cell body in %%stratum predict)',
      },
    ],
    flags: {
      ...CONNECT,
      model: { type: 'string', value: 'NAME', description: 'model name when the URL does not name it' },
      ...API_KEY,
    },
  },
  {
    name: 'help',
    summary: 'Show help for a magic.',
    args: [{ name: 'COMMAND', required: false, description: 'command to describe' }],
    flags: {},
  },
];

/** Commands whose last argument is raw JSON (not tokenized) on the line or in the cell body. */
export const JSON_TAIL: ReadonlySet<string> = new Set(['predict']);
/** Commands whose cell form (`%%stratum ...`) takes a body. */
export const CELL_BODY: ReadonlySet<string> = new Set(['pipeline', 'predict']);

export function magic(name: string): CommandSpec | undefined {
  return MAGICS.find((c) => c.name === name);
}

export function magicUsage(name: string): string | undefined {
  const spec = magic(name);
  if (!spec) return undefined;
  const form = name === 'pipeline' ? '%%stratum' : '%stratum';
  return usage(spec, form);
}

export function overview(): string {
  const lines = MAGICS.map((c) => `  ${c.name.padEnd(12)} ${c.summary}`);
  return `%stratum magics (%stratum help COMMAND for details):\n${lines.join('\n')}`;
}
