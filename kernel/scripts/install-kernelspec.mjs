#!/usr/bin/env node
// Installs the "Stratum (TypeScript)" kernelspec into the project venv:
// .venv/share/jupyter/kernels/stratum-ts/kernel.json, with this node and the built kernel.
// Idempotent: writes only when the content changes. `npm run setup` calls it after the build.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const kernelDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const root = resolve(kernelDir, '..');
const prefix = resolve(process.argv[2] ?? join(root, '.venv'));
const main = join(kernelDir, 'dist', 'main.js');
const dir = join(prefix, 'share', 'jupyter', 'kernels', 'stratum-ts');

const spec = {
  argv: [process.execPath, main, '{connection_file}'],
  display_name: 'Stratum (TypeScript)',
  language: 'typescript',
  interrupt_mode: 'signal',
  metadata: { debugger: false },
};
const text = JSON.stringify(spec, null, 2) + '\n';
const file = join(dir, 'kernel.json');

if (!existsSync(main)) console.error(`install-kernelspec: ${main} is not built yet (npm run build)`);
if (existsSync(file) && readFileSync(file, 'utf8') === text) {
  console.error(`install-kernelspec: ${file} is up to date`);
} else {
  mkdirSync(dir, { recursive: true });
  writeFileSync(file, text);
  console.error(`install-kernelspec: wrote ${file}`);
}
