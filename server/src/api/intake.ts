/**
 * From a submitted spec to a schedulable run: validate the YAML, check the uploaded data
 * against it (columns exist, types fit), expand the search space. Every problem becomes a
 * located diagnostic; nothing is stored unless all checks pass.
 */
import { create } from '@bufbuild/protobuf';
import { DataArtifactSchema, DiagnosticSchema, type DataArtifact, type DataRef, type Diagnostic } from '@stratum/proto';
import { createHash } from 'node:crypto';

import { frameColumns, inferFormat, loadFrame } from '../data/load';
import type { ColumnInfo, DataFormat } from '../data/types';
import type { EarlyStoppingPolicy } from '../scheduler/early-stopping';
import type { SubmitInput } from '../scheduler/controller';
import {
  checkSpec,
  defaultGoal,
  expandSearchSpace,
  parseQuantityMiB,
  type LoadedSpec,
  type SpecDiagnostic,
} from '../spec';
import type { ArtifactStore } from '../store/artifacts';
import { diagnosticAt } from '../util/yaml-locate';

export interface IntakeResult {
  readonly diagnostics: Diagnostic[];
  readonly submit?: SubmitInput;
}

export interface IntakeDeps {
  readonly artifacts: ArtifactStore;
  /** Column info per data digest, so a large data set is read once. */
  readonly columnCache: Map<string, ColumnInfo[]>;
  readonly limits: { readonly maxTrialsPerRun: number };
  /** The tier names a spec may name (selection.qos.tier); default: not checked. */
  readonly tiers?: () => readonly string[];
}

function diag(d: SpecDiagnostic): Diagnostic {
  return create(DiagnosticSchema, d);
}

export async function intakeSpec(
  text: string,
  file: string,
  data: readonly DataRef[],
  deps: IntakeDeps,
): Promise<IntakeResult> {
  const tiers = deps.tiers?.();
  const first = checkSpec(text, file, tiers ? { tiers } : {});
  if (!first.spec) return { diagnostics: first.diagnostics.map(diag) };
  const spec = first.spec.spec;
  const source = spec.data.source;
  const at = (field: string, message: string): Diagnostic =>
    create(DiagnosticSchema, diagnosticAt(text, file, field, message));
  const format = (spec.data.format ?? inferFormat(source)) as DataFormat | undefined;
  if (!format) {
    return {
      diagnostics: [
        at('data.source', `cannot tell the format of "${source}": set data.format (csv, json, arrow, parquet)`),
      ],
    };
  }
  const ref = data.find((d) => d.source === source);
  if (!ref) {
    return {
      diagnostics: [
        at('data.source', `data "${source}" was not uploaded with the spec (the client uploads local files and URLs)`),
      ],
    };
  }
  if (!deps.artifacts.has(ref.digest)) {
    return {
      diagnostics: [at('data.source', `uploaded data ${ref.digest} for "${source}" is not in the artifact store`)],
    };
  }
  let columns = deps.columnCache.get(ref.digest);
  if (!columns) {
    try {
      const frame = await loadFrame(deps.artifacts.get(ref.digest), format, { source, limit: spec.data.limit });
      columns = frameColumns(frame);
      deps.columnCache.set(ref.digest, columns);
    } catch (e) {
      return { diagnostics: [at('data.source', `cannot read "${source}" as ${format}: ${(e as Error).message}`)] };
    }
  }
  const second = checkSpec(text, file, { columns, ...(tiers ? { tiers } : {}) });
  if (!second.spec) return { diagnostics: second.diagnostics.map(diag) };
  const loaded = second.spec;
  const plans = expandSearchSpace(loaded.spec);
  if (plans.length > deps.limits.maxTrialsPerRun) {
    return {
      diagnostics: [
        at(
          'search',
          `the search space expands to ${plans.length} trials, over the limit of ${deps.limits.maxTrialsPerRun} per run`,
        ),
      ],
    };
  }
  const goal = loaded.spec.selection.goal ?? defaultGoal(loaded.spec.selection.metric);
  const artifact: DataArtifact = create(DataArtifactSchema, {
    source,
    digest: ref.digest,
    format,
    sizeBytes: BigInt(deps.artifacts.size(ref.digest)),
  });
  const r = loaded.spec.resources;
  return {
    diagnostics: [],
    submit: {
      name: loaded.spec.metadata.name,
      specYaml: text,
      specFile: file,
      specHash: loaded.hash,
      specJson: JSON.stringify(loaded.spec),
      task: loaded.spec.task,
      metric: loaded.spec.selection.metric,
      goal,
      earlyStopping: earlyStoppingPolicy(loaded),
      data: [artifact],
      dataHash: createHash('sha256').update(ref.digest).digest('hex'),
      plans,
      resources: {
        cpus: r?.cpus ?? 1,
        memoryMb: r?.memory !== undefined ? parseQuantityMiB(r.memory) : 512,
        gpus: r?.gpus ?? 0,
      },
    },
  };
}

function earlyStoppingPolicy(loaded: LoadedSpec): EarlyStoppingPolicy | undefined {
  const es = loaded.spec.earlyStopping;
  if (!es) return undefined;
  return {
    rule: es.rule,
    metric: es.metric ?? 'val_loss',
    goal: es.goal ?? (es.metric ? defaultGoal(es.metric) : 'minimize'),
    graceEpochs: es.graceEpochs ?? 2,
    reductionFactor: es.reductionFactor ?? 3,
  };
}
