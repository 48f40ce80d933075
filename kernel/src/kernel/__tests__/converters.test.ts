import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { scopeForwarder } from '../converters';

describe('scopeForwarder', () => {
  const notebook = mkdtempSync(join(tmpdir(), 'stratum-nb-'));
  const forward = scopeForwarder(notebook, '/repo/node_modules');

  it("answers @stratum paths the notebook's directory lacks from the kernel's node_modules", () => {
    expect(forward(join(notebook, 'node_modules', '@stratum', 'kernel', 'package.json'))).toBe(
      '/repo/node_modules/@stratum/kernel/package.json',
    );
    expect(forward(join(notebook, 'node_modules', '@stratum'))).toBe('/repo/node_modules/@stratum');
  });

  it('leaves every other path, and @stratum packages the notebook has itself, alone', () => {
    expect(forward(join(notebook, 'node_modules', 'lodash', 'index.d.ts'))).toBe(
      join(notebook, 'node_modules', 'lodash', 'index.d.ts'),
    );
    expect(forward(join(notebook, 'node_modules', '@stratumx', 'a.d.ts'))).toBe(
      join(notebook, 'node_modules', '@stratumx', 'a.d.ts'),
    );
    const own = join(notebook, 'node_modules', '@stratum', 'local');
    mkdirSync(own, { recursive: true });
    expect(forward(own)).toBe(own);
  });
});
