import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { completeMagic, inspectMagic, isMagicComplete } from '../assist';

const dir = mkdtempSync(join(tmpdir(), 'stratum-assist-'));
writeFileSync(join(dir, 'penguins.yaml'), 'kind: Pipeline\n');
const ctx = { pipelines: () => ['pengo', 'cars'], cwd: dir };
const complete = (code: string, cursor = code.length) => completeMagic(code, cursor, ctx);

describe('completeMagic', () => {
  it('completes command names from the cursor word', () => {
    expect(complete('%stratum de')).toEqual({ matches: ['deploy', 'deployments'], cursorStart: 9, cursorEnd: 11 });
    expect(complete('%stratum ').matches).toContain('train');
  });

  it("completes the command's flags", () => {
    expect(complete('%stratum train x --w')).toEqual({ matches: ['--watch'], cursorStart: 17, cursorEnd: 20 });
    expect(complete('%stratum deploy m --').matches).toEqual(
      expect.arrayContaining(['--tier', '--qos', '--min', '--max', '--dry-run']),
    );
  });

  it('completes pipelines of the session and spec files for train', () => {
    expect(complete('%stratum train pe').matches).toEqual(['pengo', 'penguins.yaml']);
    expect(complete('%stratum train --as r pe').matches).toEqual(['pengo', 'penguins.yaml']);
    expect(complete('%stratum train pengo ').matches).toEqual([]);
  });

  it('completes on the line of the cursor, not in a YAML body', () => {
    const code = '%stratum status\n%stratum ru';
    expect(complete(code).matches).toEqual(['runs']);
    expect(complete('%%stratum pipeline p\nmod').matches).toEqual([]);
  });
});

describe('inspectMagic', () => {
  it("returns the usage of the cursor line's command", () => {
    const usage = inspectMagic('%stratum deploy m', 12);
    expect(usage).toMatch(/^%stratum deploy MODEL\[:VERSION\]\n/);
    expect(usage).toContain('--tier STRING');
    expect(inspectMagic('%%stratum pipeline p\nkind: Pipeline', 30)).toMatch(/^%%stratum pipeline NAME/);
    expect(inspectMagic('%stratum', 3)).toMatch(/^%stratum magics/);
  });
});

describe('isMagicComplete', () => {
  it('waits for the body of a cell magic and takes line magics as they are', () => {
    expect(isMagicComplete('%%stratum pipeline p')).toBe('incomplete');
    expect(isMagicComplete('%%stratum pipeline p\nkind: Pipeline')).toBe('complete');
    expect(isMagicComplete('%%stratum predict http://h {"rows": []}')).toBe('complete');
    expect(isMagicComplete('%stratum status')).toBe('complete');
  });
});
