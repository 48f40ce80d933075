#!/usr/bin/env node
/**
 * The "Stratum (TypeScript)" kernel: `node kernel/dist/main.js CONNECTION_FILE`. Assembled as
 * tslab's own kernel is (tslab/dist/main.js: converters, executor, JupyterHandlerImpl,
 * ZmqServer), with the handler wrapped for the `%stratum` magics.
 */
import Module from 'node:module';
import { delimiter, dirname } from 'node:path';
import { createExecutor } from 'tslab/dist/executor';
import { JupyterHandlerImpl } from 'tslab/dist/jupyter';

import { stratum } from './api/stratum';
import { CapturingConsole } from './kernel/capture';
import { forwardStratumModules, LazyConverters } from './kernel/converters';
import { StratumHandler } from './kernel/handler';
import { StratumServer } from './kernel/server';

/** The node_modules that holds tslab and the @stratum packages (the repository's). */
export function modulesDir(): string {
  return dirname(dirname(require.resolve('tslab/package.json')));
}

/** Makes `require("@stratum/kernel")` work from a notebook in any directory. */
function addNodePath(dir: string): void {
  const paths = (process.env.NODE_PATH ?? '').split(delimiter).filter(Boolean);
  if (paths.includes(dir)) return;
  process.env.NODE_PATH = [...paths, dir].join(delimiter);
  (Module as unknown as { _initPaths(): void })._initPaths();
}

export function startKernel(configPath: string): StratumServer {
  const cwd = process.cwd();
  addNodePath(modulesDir());
  forwardStratumModules(cwd, modulesDir());
  const convs = new LazyConverters();
  void convs.node; // Warm the converter, as tslab does: the first cell is then quick.
  const reports = new CapturingConsole();
  const executor = createExecutor(cwd, convs, reports);
  const handler = new StratumHandler(new JupyterHandlerImpl(executor, false), executor, stratum, reports, cwd);
  const server = new StratumServer(handler, configPath);
  process.on('SIGINT', () => handler.interrupt());
  process.on('uncaughtException', (err) => console.error('UncaughtException:', err));
  process.on('unhandledRejection', (reason) => console.error('UnhandledPromiseRejection:', reason));
  void server.init();
  return server;
}

if (require.main === module) {
  const configPath = process.argv[2];
  if (!configPath) {
    process.stderr.write('usage: node kernel/dist/main.js CONNECTION_FILE\n');
    process.exit(2);
  }
  startKernel(configPath);
}
