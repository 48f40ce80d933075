/** A plan to render, and readers of what the renderers write. */
import { create } from '@bufbuild/protobuf';
import { DeploymentPlanSchema, type DeploymentPlan } from '@stratum/proto';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

export type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export const plan = (patch: Partial<Omit<DeploymentPlan, '$typeName'>> = {}): DeploymentPlan =>
  create(DeploymentPlanSchema, {
    name: 'penguins',
    modelName: 'penguins',
    modelVersion: 3,
    modelDigest: 'sha256:ab12',
    tier: 'edge',
    minReplicas: 1,
    maxReplicas: 4,
    initialReplicas: 1,
    targetConcurrency: 8,
    maxBatchSize: 16,
    maxQueueDelayMs: 2,
    resources: { cpus: 0.5, memoryMb: 192n, gpus: 0 },
    qos: { p95Ms: 20, rps: 100 },
    inputs: [{ name: 'input', datatype: 'FP32', shape: [-1n, 4n] }],
    outputs: [{ name: 'label', datatype: 'BYTES', shape: [-1n] }],
    checks: [
      {
        name: 'memory fits',
        ok: true,
        message: 'model needs ~192 MiB per replica; largest edge worker offers 1024 MiB',
      },
    ],
    feasible: true,
    ...patch,
  });

/** Every object, validated by kubernetes-models (ES modules only, so in a child Node process). */
export function validate(objects: Obj[]): (string | null)[] {
  const out = execFileSync(process.execPath, [join(__dirname, 'k8s-validate.mjs')], { input: JSON.stringify(objects) });
  return JSON.parse(out.toString()) as (string | null)[];
}

export const docs = (yaml: string): Obj[] =>
  parseAllDocuments(yaml).map((d) => {
    expect(d.errors).toEqual([]);
    return d.toJS() as Obj;
  });

export const byKind = (objects: Obj[]) => Object.fromEntries(objects.map((o) => [o.kind as string, o]));
