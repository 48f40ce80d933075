/**
 * tslab's TypeScript converters (one for Node code, one for browser code, made lazily as tslab's
 * own kernel does), with `@stratum/*` made resolvable from a notebook in any directory.
 *
 * tslab type-checks each cell as a file in the kernel's working directory (the notebook's), and
 * it already forwards `<cwd>/node_modules/tslab` to its own package so `import "tslab"` works
 * everywhere. This does the same for the `@stratum` scope: paths under
 * `<cwd>/node_modules/@stratum` that do not exist are answered from the node_modules that holds
 * this kernel, and `realpath` maps them to the real files, so the declarations they import
 * resolve from the repository as usual. At run time, NODE_PATH (set by main.ts) does the same
 * for `require`.
 */
import { createConverter, type Converter } from 'tslab/dist/converter';
import type { ConverterSet } from 'tslab/dist/executor';
import * as ts from '@tslab/typescript-for-tslab';
import { existsSync } from 'node:fs';
import { isAbsolute, join, relative, sep } from 'node:path';

export class LazyConverters implements ConverterSet {
  private nodeConv?: Converter;
  private browserConv?: Converter;

  constructor(private readonly jsKernel = false) {}

  get node(): Converter {
    this.nodeConv ??= createConverter({ isJS: this.jsKernel, isBrowser: false });
    return this.nodeConv;
  }

  get browser(): Converter {
    this.browserConv ??= createConverter({ isJS: this.jsKernel, isBrowser: true });
    return this.browserConv;
  }

  close(): void {
    this.nodeConv?.close();
    this.browserConv?.close();
  }
}

/** Maps `<cwd>/node_modules/@stratum/...` to `<modulesDir>/@stratum/...` when the former is absent. */
export function scopeForwarder(cwd: string, modulesDir: string, scope = '@stratum'): (path: string) => string {
  const from = join(cwd, 'node_modules', scope);
  const to = join(modulesDir, scope);
  return (path) => {
    if (from === to) return path;
    const rel = relative(from, path);
    if (rel.split(sep)[0] === '..' || isAbsolute(rel) || existsSync(path)) return path;
    return join(to, rel);
  };
}

type PathFn<R> = (path: string, ...rest: never[]) => R;

/**
 * Patches the `ts.sys` that tslab's converters read through. Call before the first converter is
 * made; idempotent per process.
 */
export function forwardStratumModules(cwd: string, modulesDir: string): void {
  const sys = ts.sys as unknown as Record<string, unknown> & { __stratumForwarded?: boolean };
  if (sys.__stratumForwarded) return;
  sys.__stratumForwarded = true;
  const forward = scopeForwarder(cwd, modulesDir);
  for (const name of ['readFile', 'fileExists', 'directoryExists', 'readDirectory', 'getDirectories']) {
    const original = sys[name] as PathFn<unknown> | undefined;
    if (!original) continue;
    sys[name] = (path: string, ...rest: never[]) => original.call(ts.sys, forward(path), ...rest);
  }
  const realpath = sys.realpath as PathFn<string> | undefined;
  if (realpath) sys.realpath = (path: string) => realpath.call(ts.sys, forward(path));
}
