/**
 * The pipelines a notebook session defines (`%%stratum pipeline NAME` + YAML), checked locally
 * with the same spec checks the control plane runs. Diagnostics point at the lines the user
 * wrote: in a cell, the YAML's line 1 is the cell's line 2.
 */
import { checkSpec, expandSearchSpace, type LoadedSpec } from '@stratum/server/dist/spec';
import { nearest } from '@stratum/server/dist/cli/args';
import { diagnosticAt } from '@stratum/server/dist/util/yaml-locate';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';

import { relocate, type SpecOrigin } from './diagnostics';
import { SpecLineError, StratumError } from './errors';

export interface Pipeline {
  readonly name: string;
  readonly text: string;
  /** A path whose directory relative data sources resolve against. */
  readonly specPath: string;
  readonly origin: SpecOrigin;
  readonly spec: LoadedSpec;
}

const NAME = /^[A-Za-z_][\w.-]*$/;

/** Checks a spec and that a local data file exists; throws SpecLineError with every problem. */
export function checkPipeline(name: string, text: string, specPath: string, origin: SpecOrigin): Pipeline {
  const checked = checkSpec(text, origin.label);
  if (!checked.spec) throw new SpecLineError(checked.diagnostics.map((d) => relocate(d, origin)));
  const source = checked.spec.spec.data.source;
  if (!/^https?:\/\//i.test(source)) {
    const path = isAbsolute(source) ? source : resolve(dirname(specPath), source);
    if (!existsSync(path) || !statSync(path).isFile()) {
      const d = diagnosticAt(text, origin.label, 'data.source', `data file not found: ${path}`);
      throw new SpecLineError([relocate(d, origin)]);
    }
  }
  return { name, text, specPath, origin, spec: checked.spec };
}

/** A one-line account of a checked pipeline. */
export function describePipeline(p: Pipeline): string {
  const s = p.spec.spec;
  const trials = expandSearchSpace(s).length;
  return (
    `pipeline ${p.name}: ${s.task} of ${s.target} by ${s.selection.metric}, ` +
    `${s.models.length} candidate model(s), ${trials} trial(s); data ${s.data.source}`
  );
}

export class PipelineStore {
  private readonly byName = new Map<string, Pipeline>();

  names(): string[] {
    return [...this.byName.keys()].sort();
  }

  get(name: string): Pipeline | undefined {
    return this.byName.get(name);
  }

  /** Defines (or redefines) a pipeline from a cell body; relative data paths resolve against `cwd`. */
  define(name: string, yaml: string, cwd: string = process.cwd()): Pipeline {
    if (!NAME.test(name)) {
      throw new StratumError(
        'UsageError',
        `pipeline name "${name}" must start with a letter and hold letters, digits, _ . -`,
      );
    }
    const p = checkPipeline(name, yaml, join(cwd, `${name}.yaml`), { label: name, lineOffset: 1 });
    this.byName.set(name, p);
    return p;
  }

  /** A pipeline of this session by name, a YAML file, or YAML text. */
  resolve(nameOrSpec: string, cwd: string = process.cwd()): Pipeline {
    const named = this.byName.get(nameOrSpec);
    if (named) return named;
    if (nameOrSpec.includes('\n')) {
      return checkPipeline('inline', nameOrSpec, join(cwd, 'inline.yaml'), { label: 'spec', lineOffset: 0 });
    }
    const path = resolve(cwd, nameOrSpec);
    if (/\.ya?ml$/i.test(nameOrSpec) || (existsSync(path) && statSync(path).isFile())) {
      if (!existsSync(path)) throw new StratumError('FileNotFoundError', `spec file not found: ${path}`);
      return checkPipeline(nameOrSpec, readFileSync(path, 'utf8'), path, { label: nameOrSpec, lineOffset: 0 });
    }
    const near = nearest(nameOrSpec, this.names());
    const known = this.names().length ? `; pipelines in this session: ${this.names().join(', ')}` : '';
    throw new StratumError(
      'UnknownPipeline',
      `no pipeline "${nameOrSpec}"${near ? ` (did you mean ${near}?)` : ''}${known}. ` +
        `Define it with %%stratum pipeline ${nameOrSpec} and its YAML, or give a .yaml file path.`,
    );
  }
}
