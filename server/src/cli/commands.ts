/** The command table of `stratum` (and, through the kernel, of `%stratum`). */
import type { CommandSpec, FlagSpec } from './args';
import { PROFILE_COMMAND } from './profile-command';

const CONNECT: Record<string, FlagSpec> = {
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
};
/** An inference key, for endpoints of deployments made with --require-key. */
export const API_KEY: Record<string, FlagSpec> = {
  'api-key': {
    type: 'string',
    value: 'KEY',
    description: "the deployment's API key (default $STRATUM_API_KEY; the variable keeps it out of ps)",
  },
};
const JSON_FLAG: Record<string, FlagSpec> = { json: { type: 'boolean', description: 'print JSON for scripts' } };

/** Where and how a replica serves: `serve-model` and `replica` start the same runtime. */
const REPLICA_SERVING: Record<string, FlagSpec> = {
  port: { type: 'number', description: 'port (default: a free one)' },
  host: { type: 'string', description: 'address (default 127.0.0.1)' },
  'max-batch-size': {
    type: 'number',
    value: 'N',
    description: 'dynamic batching: largest batch (default 32; 1 turns it off)',
  },
  'max-queue-delay-ms': {
    type: 'number',
    value: 'MS',
    description: 'dynamic batching: after a full batch, longest a partial one waits to fill (default 2)',
  },
};
const ALLOW_TRAINER: Record<string, FlagSpec> = {
  'allow-trainer': {
    type: 'string',
    value: 'NAME=COMMAND',
    repeatable: true,
    description: 'a command the external trainer may run as NAME (repeatable; also $STRATUM_HOME/trainers.json)',
  },
};

export const COMMANDS: readonly CommandSpec[] = [
  {
    name: 'serve',
    summary: 'Start the control plane with local workers.',
    args: [],
    flags: {
      port: { type: 'number', description: 'port to listen on (default 7070; 0 picks a free one)' },
      host: { type: 'string', description: 'address to listen on (default 127.0.0.1)' },
      home: { type: 'string', value: 'DIR', description: 'state directory (default $STRATUM_HOME or ~/.stratum)' },
      workers: { type: 'number', value: 'N', description: 'local worker processes to start (default 2; 0 allowed)' },
      'worker-cpus': { type: 'number', value: 'N', description: 'cpus each local worker offers (default 1)' },
      'worker-memory': { type: 'string', value: 'SIZE', description: 'memory each local worker offers (default 2Gi)' },
      tier: { type: 'string', description: 'tier of the local workers (default cloud)' },
      tiers: {
        type: 'list',
        value: 'T,...',
        description: 'instead: one emulated worker per tier (e.g. cloud,fog,edge)',
      },
      'lease-ttl': { type: 'number', value: 'MS', description: 'lease time-to-live in ms (default 5000)' },
      'gateway-port': { type: 'number', description: 'port of the deployment gateway (default: port + 1)' },
      'scale-down-delay': {
        type: 'number',
        value: 'MS',
        description: 'autoscaler quiet window before removing replicas (default 10000)',
      },
      'idle-to-zero': {
        type: 'number',
        value: 'MS',
        description: 'idle time before a min-0 deployment scales to zero (default 30000)',
      },
      ...ALLOW_TRAINER,
      provisioner: {
        type: 'string',
        value: 'local|ray',
        description: 'where workers come from: local processes (default) or Ray jobs (--ray-address)',
      },
      'ray-address': { type: 'string', value: 'URL', description: 'Ray dashboard / job API, e.g. http://HOST:8265' },
      'ray-max-workers': { type: 'number', value: 'N', description: 'most worker jobs at once (default 4)' },
      'ray-worker-cpus': { type: 'number', value: 'N', description: 'cpus each Ray worker job asks for (default 1)' },
      'ray-worker-memory': {
        type: 'string',
        value: 'SIZE',
        description: 'memory each Ray worker job asks for (default 2Gi)',
      },
      'ray-worker-gpus': { type: 'number', value: 'N', description: 'GPUs each Ray worker job asks for (default 0)' },
      'ray-tier': {
        type: 'string',
        value: 'T',
        description: 'tier of the Ray workers; each job asks one unit of the custom resource stratum-tier-T',
      },
      'ray-idle-timeout': {
        type: 'number',
        value: 'MS',
        description: 'idle time before a Ray worker job is stopped (default 60000)',
      },
      'ray-join-url': {
        type: 'string',
        value: 'URL',
        description: 'control plane URL as Ray nodes reach it (default: the URL it listens on)',
      },
      'ray-worker-command': {
        type: 'string',
        value: 'CMD',
        description: 'how a Ray node starts the stratum CLI (default: this node and this checkout)',
      },
      'ray-token-from-node': {
        type: 'boolean',
        description: "leave STRATUM_JOIN_TOKEN to the Ray nodes' environment instead of each job's runtime_env",
      },
    },
  },
  {
    name: 'worker',
    summary: 'Join a control plane as a worker and run trials.',
    args: [],
    flags: {
      join: { type: 'string', value: 'URL', description: 'control plane URL to join' },
      token: { type: 'string', description: 'join token (default $STRATUM_JOIN_TOKEN or $STRATUM_HOME/join-token)' },
      tier: { type: 'string', description: 'tier this worker belongs to (default cloud)' },
      cpus: { type: 'number', value: 'N', description: 'cpus to offer (default: all)' },
      memory: { type: 'string', value: 'SIZE', description: 'memory to offer, e.g. 4Gi (default: 80% of RAM)' },
      gpus: { type: 'number', value: 'N', description: 'GPUs to offer (default: those nvidia-smi shows, else 0)' },
      name: { type: 'string', description: 'worker name (default: host name and pid)' },
      label: { type: 'list', value: 'K=V,...', description: 'labels for placement' },
      'in-process': { type: 'boolean', description: 'run trials in the agent process (no executor children)' },
      'warm-replicas': {
        type: 'number',
        value: 'N',
        description: 'replica processes kept started for fast cold starts (default 1; 0 off)',
      },
      'emulate-tier': {
        type: 'boolean',
        description: "run replicas under the tier's limits (cores, CPU share, threads, memory; tiers.yaml)",
      },
      ...ALLOW_TRAINER,
    },
  },
  {
    name: 'validate',
    summary: 'Check a pipeline spec and its data without running it.',
    args: [{ name: 'SPEC', required: true, description: 'pipeline YAML file' }],
    flags: { ...CONNECT, ...JSON_FLAG },
  },
  {
    name: 'run',
    summary: 'Run a pipeline: train its candidates on the workers and select the best model.',
    args: [{ name: 'SPEC', required: true, description: 'pipeline YAML file' }],
    flags: {
      ...CONNECT,
      ...JSON_FLAG,
      watch: { type: 'boolean', description: 'show live progress and the leaderboard while it runs' },
      detach: { type: 'boolean', description: 'submit and return the run id without waiting' },
    },
  },
  {
    name: 'runs',
    summary: 'List runs.',
    args: [],
    flags: { ...CONNECT, ...JSON_FLAG, limit: { type: 'number', description: 'how many (default 20)' } },
  },
  {
    name: 'run-status',
    summary: 'Show a run with its leaderboard.',
    args: [{ name: 'ID', required: true, description: 'run id or unique prefix' }],
    flags: { ...CONNECT, ...JSON_FLAG, watch: { type: 'boolean', description: 'follow until it ends' } },
  },
  {
    name: 'cancel',
    summary: 'Cancel a run and stop its trials on the workers.',
    args: [{ name: 'ID', required: true, description: 'run id or unique prefix' }],
    flags: { ...CONNECT, ...JSON_FLAG },
  },
  {
    name: 'workers',
    summary: 'List tiers and workers with their resources.',
    args: [],
    flags: { ...CONNECT, ...JSON_FLAG },
  },
  {
    name: 'models',
    summary: 'List registered models.',
    args: [{ name: 'NAME', required: false, description: 'only versions of this model' }],
    flags: { ...CONNECT, ...JSON_FLAG },
  },
  {
    name: 'model',
    summary: 'Show one model with its lineage.',
    args: [{ name: 'NAME[:VERSION]', required: true, description: 'model name, optionally with a version' }],
    flags: { ...CONNECT, ...JSON_FLAG },
  },
  {
    name: 'import',
    summary: 'Register an ONNX file made elsewhere (PyTorch, skl2onnx, ...) as a model.',
    args: [{ name: 'FILE', required: true, description: 'the .onnx file' }],
    flags: {
      ...CONNECT,
      ...JSON_FLAG,
      name: { type: 'string', description: 'model name (lowercase letters, digits, dashes)' },
      description: { type: 'string', description: 'a line about the model' },
    },
  },
  {
    name: 'serve-model',
    summary: 'Serve a registered model on the Open Inference Protocol (REST and gRPC on one port).',
    args: [{ name: 'NAME[:VERSION]', required: true, description: 'registered model' }],
    flags: {
      ...CONNECT,
      ...REPLICA_SERVING,
    },
  },
  {
    name: 'replica',
    summary: 'Serve one replica of a registered model, as a Kubernetes Deployment runs it (SIGTERM drains).',
    args: [],
    flags: {
      ...CONNECT,
      model: { type: 'string', value: 'NAME:VERSION', description: 'registered model to fetch and serve' },
      name: { type: 'string', description: 'name it serves under (default: the model name)' },
      version: { type: 'number', value: 'V', description: 'version it reports (default: the model version)' },
      ...REPLICA_SERVING,
      threads: { type: 'number', value: 'N', description: 'onnxruntime intra-op threads (default: its own)' },
    },
  },
  {
    name: 'predict',
    summary: 'Ask an endpoint (URL) or a registered model (NAME, run locally) for predictions.',
    args: [{ name: 'URL|NAME', required: true, description: 'http://HOST:PORT[/v2/models/NAME], or a model name' }],
    flags: {
      ...CONNECT,
      ...JSON_FLAG,
      input: {
        type: 'string',
        value: 'JSON',
        description: '{"rows": [...]} records, or {"inputs": [...]} tensors; @file.json reads a file',
      },
      model: { type: 'string', value: 'NAME', description: 'model name when the URL does not end in /v2/models/NAME' },
      ...API_KEY,
    },
  },
  PROFILE_COMMAND,
  {
    name: 'deploy',
    summary: 'Publish a model as an endpoint on a tier; the plan is checked before anything starts.',
    args: [{ name: 'MODEL[:VERSION]', required: true, description: 'registered model' }],
    flags: {
      ...CONNECT,
      ...JSON_FLAG,
      tier: { type: 'string', description: 'tier to run on (cloud, fog, edge, ...)' },
      qos: { type: 'string', value: 'p99=20ms,rps=200', description: 'latency budgets, throughput, max cost per hour' },
      min: { type: 'number', value: 'N', description: 'fewest replicas (0 scales to zero when idle; default 0)' },
      max: { type: 'number', value: 'N', description: 'most replicas (default 4)' },
      name: { type: 'string', description: 'deployment name (default: the model name)' },
      fallback: {
        type: 'list',
        value: 'TIER,...',
        description: 'tiers replicas may move to when the tier has no room',
      },
      'dry-run': {
        type: 'boolean',
        description: 'print the plan, its checks and the infrastructure-as-code; start nothing',
      },
      wait: { type: 'number', value: 'S', description: 'seconds to wait for the first replica (default 120)' },
      'target-concurrency': {
        type: 'number',
        value: 'N',
        description: 'requests in flight per replica the autoscaler aims for (default 8)',
      },
      'require-key': {
        type: 'boolean',
        description: 'inference needs an API key of the deployment; prints the first one (stratum keys)',
      },
    },
  },
  {
    name: 'deployments',
    summary: 'List deployments with replicas and live load.',
    args: [],
    flags: { ...CONNECT, ...JSON_FLAG },
  },
  {
    name: 'undeploy',
    summary: 'Remove a deployment and stop its replicas.',
    args: [{ name: 'NAME', required: true, description: 'deployment name' }],
    flags: { ...CONNECT, ...JSON_FLAG },
  },
  {
    name: 'scale',
    summary: 'Change the replica bounds of a deployment.',
    args: [{ name: 'NAME', required: true, description: 'deployment name' }],
    flags: {
      ...CONNECT,
      ...JSON_FLAG,
      min: { type: 'number', value: 'N', description: 'fewest replicas' },
      max: { type: 'number', value: 'N', description: 'most replicas' },
    },
  },
  {
    name: 'logs',
    summary: "A deployment's events: replicas started, ready, moved; scaling; cold starts.",
    args: [{ name: 'NAME', required: true, description: 'deployment name' }],
    flags: { ...CONNECT, ...JSON_FLAG },
  },
  {
    name: 'keys',
    summary: 'API keys of a deployment made with --require-key: create (shown once), list, revoke.',
    args: [
      { name: 'create|list|revoke', required: true, description: 'what to do' },
      { name: 'DEPLOYMENT', required: true, description: 'deployment name' },
      { name: 'KEY_ID', required: false, description: 'revoke: the key id (from keys list)' },
    ],
    flags: {
      ...CONNECT,
      ...JSON_FLAG,
      label: { type: 'string', description: 'create: a note on who holds the key (≤ 100 characters)' },
    },
  },
  {
    name: 'help',
    summary: 'Show help for a command.',
    args: [{ name: 'COMMAND', required: false, description: 'command to describe' }],
    flags: {},
  },
];
