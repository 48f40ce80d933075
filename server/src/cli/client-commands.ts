/** The commands that talk to a running control plane. */
import { toJson, toJsonString } from '@bufbuild/protobuf';
import {
  GetClusterResponseSchema,
  ModelSchema,
  RunEvent_Kind,
  RunSchema,
  State,
  ValidateSpecResponseSchema,
  type DataRef,
  type Diagnostic,
  type Run,
} from '@stratum/proto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';

import { createStratumClient, type StratumClient } from '../client';
import { clientToken, DEFAULT_SERVER, stratumHome } from '../config/home';
import { checkSpec, formatDiagnostic } from '../spec';
import { diagnosticAt } from '../util/yaml-locate';
import { UsageError, type FlagValue } from './args';
import { clusterTable, leaderboard, modelsTable, progressBar, runsTable, runSummary } from './render';

type Flags = Readonly<Record<string, FlagValue>>;

export interface Io {
  readonly out: (s: string) => void;
  readonly err: (s: string) => void;
  readonly isTTY: boolean;
}

/** Raised when the spec has problems: the CLI prints them and exits 2. */
export class SpecProblems extends Error {
  constructor(
    readonly diagnostics: readonly Pick<Diagnostic, 'file' | 'line' | 'column' | 'field' | 'message' | 'suggestion'>[],
  ) {
    super(diagnostics.map((d) => formatDiagnostic(d)).join('\n'));
    this.name = 'SpecProblems';
  }
}

export function serverUrl(flags: Flags, env: NodeJS.ProcessEnv = process.env): string {
  if (flags.server) return String(flags.server);
  if (env.STRATUM_SERVER) return env.STRATUM_SERVER;
  try {
    const info = JSON.parse(readFileSync(resolve(stratumHome(env), 'server.json'), 'utf8')) as { url?: string };
    if (info.url) return info.url;
  } catch {
    // No local server file: fall back to the default address.
  }
  return DEFAULT_SERVER;
}

export function clientFor(flags: Flags): StratumClient {
  return createStratumClient({ url: serverUrl(flags), token: flags.token ? String(flags.token) : clientToken() });
}

const MAX_DATA_BYTES = 512 << 20;

/** Uploads the spec's data (a local file relative to the spec, or a URL) and returns its ref. */
export async function uploadData(client: StratumClient, specPath: string, text: string): Promise<DataRef[]> {
  const checked = checkSpec(text, specPath);
  if (!checked.spec) throw new SpecProblems(checked.diagnostics);
  const source = checked.spec.spec.data.source;
  const at = (message: string) => diagnosticAt(text, specPath, 'data.source', message);
  let bytes: Uint8Array;
  if (/^https?:\/\//i.test(source)) {
    const resp = await fetch(source);
    if (!resp.ok) throw new SpecProblems([at(`fetching ${source} failed: HTTP ${resp.status}`)]);
    const len = Number(resp.headers.get('content-length') ?? 0);
    if (len > MAX_DATA_BYTES) throw new SpecProblems([at(`${source} is ${len} bytes, over ${MAX_DATA_BYTES}`)]);
    bytes = new Uint8Array(await resp.arrayBuffer());
  } else {
    const path = isAbsolute(source) ? source : resolve(dirname(resolve(specPath)), source);
    if (!existsSync(path) || !statSync(path).isFile()) {
      throw new SpecProblems([at(`data file not found: ${path}`)]);
    }
    if (statSync(path).size > MAX_DATA_BYTES) {
      throw new SpecProblems([at(`${path} is over the upload limit of ${MAX_DATA_BYTES} bytes`)]);
    }
    bytes = readFileSync(path);
  }
  const CHUNK = 1 << 20;
  async function* chunks() {
    for (let off = 0; off < bytes.byteLength || off === 0; off += CHUNK) {
      yield { data: bytes.subarray(off, off + CHUNK), name: source };
      if (bytes.byteLength === 0) break;
    }
  }
  const { digest } = await client.cluster.uploadArtifact(chunks());
  return [{ $typeName: 'stratum.v1.DataRef', source, digest }];
}

function readSpec(path: string): string {
  if (!existsSync(path)) throw new UsageError(`spec file not found: ${path}`);
  return readFileSync(path, 'utf8');
}

export async function validate(args: readonly string[], flags: Flags, io: Io): Promise<number> {
  const client = clientFor(flags);
  const text = readSpec(args[0]!);
  const data = await uploadData(client, args[0]!, text);
  const r = await client.runs.validateSpec({ specYaml: text, specFile: args[0]!, data });
  if (flags.json) io.out(toJsonString(ValidateSpecResponseSchema, r, { prettySpaces: 2 }));
  if (r.diagnostics.length > 0) throw new SpecProblems(r.diagnostics);
  if (!flags.json) io.out(`${args[0]}: valid; ${r.trialCount} trial(s)`);
  return 0;
}

export async function run(args: readonly string[], flags: Flags, io: Io): Promise<number> {
  const client = clientFor(flags);
  const text = readSpec(args[0]!);
  const data = await uploadData(client, args[0]!, text);
  const { run } = await client.runs.submitRun({ specYaml: text, specFile: args[0]!, data });
  if (flags.detach) {
    io.out(flags.json ? toJsonString(RunSchema, run!, { prettySpaces: 2 }) : run!.id);
    return 0;
  }
  if (!flags.json) io.err(`run ${run!.id} submitted: ${run!.trials.length} trials`);
  const final = await follow(client, run!.id, Boolean(flags.watch) && !flags.json, io);
  return report(final, flags, io);
}

export async function runStatus(args: readonly string[], flags: Flags, io: Io): Promise<number> {
  const client = clientFor(flags);
  if (flags.watch) {
    const final = await follow(client, args[0]!, !flags.json, io);
    return report(final, flags, io);
  }
  const { run } = await client.runs.getRun({ runId: args[0]! });
  return report(run!, flags, io, false);
}

function report(run: Run, flags: Flags, io: Io, exitOnState = true): number {
  if (flags.json) io.out(toJsonString(RunSchema, run, { prettySpaces: 2 }));
  else io.out(`${leaderboard(run)}\n\n${runSummary(run)}`);
  return exitOnState && run.state !== State.SUCCEEDED ? 1 : 0;
}

/** Follows a run to its end; with `live`, redraws progress and leaderboard as trials move. */
async function follow(client: StratumClient, runId: string, live: boolean, io: Io): Promise<Run> {
  let run: Run | undefined;
  let drawn = 0;
  const draw = (r: Run): void => {
    if (!live) return;
    const text = `${progressBar(r)}\n${leaderboard(r)}`;
    if (io.isTTY) {
      // Move up over the previous frame and clear it, so the view updates in place.
      io.err((drawn ? `\x1b[${drawn}A\x1b[J` : '') + text);
      drawn = text.split('\n').length;
    } else io.err(progressBar(r));
  };
  for (let attempt = 0; ; attempt++) {
    try {
      for await (const e of client.runs.watchRun({ runId })) {
        if (e.run) run = e.run;
        else if (e.trial && run) {
          const i = run.trials.findIndex((t) => t.id === e.trial!.id);
          if (i >= 0) run.trials[i] = e.trial;
        }
        if (run) draw(run);
        if (e.kind === RunEvent_Kind.RUN || e.kind === RunEvent_Kind.SNAPSHOT) {
          if (run && [State.SUCCEEDED, State.FAILED, State.CANCELLED].includes(run.state)) return run;
        }
      }
      const { run: latest } = await client.runs.getRun({ runId });
      if (latest && [State.SUCCEEDED, State.FAILED, State.CANCELLED].includes(latest.state)) return latest;
    } catch (e) {
      // The control plane may be restarting: keep following for a while.
      if (attempt > 60) throw e;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

export async function runs(flags: Flags, io: Io): Promise<number> {
  const r = await clientFor(flags).runs.listRuns({ limit: Number(flags.limit ?? 20) });
  io.out(
    flags.json
      ? JSON.stringify(
          r.runs.map((x) => toJson(RunSchema, x)),
          null,
          2,
        )
      : runsTable(r.runs),
  );
  return 0;
}

export async function cancel(args: readonly string[], flags: Flags, io: Io): Promise<number> {
  const { run } = await clientFor(flags).runs.cancelRun({ runId: args[0]! });
  io.out(flags.json ? toJsonString(RunSchema, run!, { prettySpaces: 2 }) : runSummary(run!));
  return 0;
}

export async function workers(flags: Flags, io: Io): Promise<number> {
  const c = await clientFor(flags).cluster.getCluster({});
  io.out(flags.json ? toJsonString(GetClusterResponseSchema, c, { prettySpaces: 2 }) : clusterTable(c));
  return 0;
}

export async function models(args: readonly string[], flags: Flags, io: Io): Promise<number> {
  const r = await clientFor(flags).models.listModels({ name: args[0] ?? '' });
  io.out(
    flags.json
      ? JSON.stringify(
          r.models.map((m) => toJson(ModelSchema, m)),
          null,
          2,
        )
      : modelsTable(r.models),
  );
  return 0;
}

export async function model(args: readonly string[], flags: Flags, io: Io): Promise<number> {
  const [name, v] = args[0]!.split(':');
  const version = v === undefined ? 0 : Number(v);
  if (!Number.isInteger(version) || version < 0) throw new UsageError(`bad model version "${v}" in ${args[0]}`);
  const { model } = await clientFor(flags).models.getModel({ name: name!, version });
  io.out(flags.json ? toJsonString(ModelSchema, model!, { prettySpaces: 2 }) : modelsTable([model!]));
  return 0;
}

export async function importModel(args: readonly string[], flags: Flags, io: Io): Promise<number> {
  const path = args[0]!;
  if (!flags.name) throw new UsageError('import needs --name NAME');
  if (!existsSync(path) || !statSync(path).isFile()) throw new UsageError(`model file not found: ${path}`);
  const bytes = readFileSync(path);
  const CHUNK = 1 << 20;
  async function* requests() {
    yield { name: String(flags.name), description: String(flags.description ?? ''), chunk: bytes.subarray(0, CHUNK) };
    for (let off = CHUNK; off < bytes.byteLength; off += CHUNK) yield { chunk: bytes.subarray(off, off + CHUNK) };
  }
  const { model } = await clientFor(flags).models.importModel(requests());
  io.out(flags.json ? toJsonString(ModelSchema, model!, { prettySpaces: 2 }) : modelsTable([model!]));
  return 0;
}
