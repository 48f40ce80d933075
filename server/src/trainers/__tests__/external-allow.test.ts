import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { parseCommand } from '../../cli/args';
import { COMMANDS } from '../../cli/commands';
import {
  ALLOWED_TRAINERS_ENV,
  allowedCommand,
  allowedFromEnv,
  parseAllowFlags,
  readTrainersFile,
  resolveAllowed,
} from '../external-allow';

describe('the external trainer allow-list', () => {
  it('parses NAME=COMMAND flags, splitting the command like a shell (never running one)', () => {
    expect(parseAllowFlags(['torch=/opt/venv/bin/python "/opt/my models/train.py" --fast', 'r=Rscript x.R'])).toEqual({
      torch: ['/opt/venv/bin/python', '/opt/my models/train.py', '--fast'],
      r: ['Rscript', 'x.R'],
    });
    expect(parseAllowFlags(['x=a=b'])).toEqual({ x: ['a=b'] });
  });

  it('refuses malformed flags with what is wrong', () => {
    expect(() => parseAllowFlags(['torch'])).toThrow(/expects NAME=COMMAND/);
    expect(() => parseAllowFlags(['=cmd'])).toThrow(/expects NAME=COMMAND/);
    expect(() => parseAllowFlags(['bad name=cmd'])).toThrow(/letters, digits/);
    expect(() => parseAllowFlags(['x='])).toThrow(/needs a command line/);
    expect(() => parseAllowFlags(['x="unclosed'])).toThrow(/unterminated/);
  });

  it('reads $STRATUM_HOME/trainers.json (strings or argv lists), and nothing when absent', () => {
    const home = mkdtempSync(join(tmpdir(), 'stratum-allow-'));
    expect(readTrainersFile(home)).toEqual({});
    writeFileSync(join(home, 'trainers.json'), JSON.stringify({ a: 'python a.py', b: ['node', 'b.js'] }));
    expect(readTrainersFile(home)).toEqual({ a: ['python', 'a.py'], b: ['node', 'b.js'] });
    writeFileSync(join(home, 'trainers.json'), '{"a": 3}');
    expect(() => readTrainersFile(home)).toThrow(/trainers\.json: a needs a command line/);
    writeFileSync(join(home, 'trainers.json'), '[1]');
    expect(() => readTrainersFile(home)).toThrow(/expected an object/);
  });

  it('merges file, environment and flags, later sources winning per name', () => {
    const home = mkdtempSync(join(tmpdir(), 'stratum-allow-'));
    writeFileSync(join(home, 'trainers.json'), JSON.stringify({ a: 'file-a', b: 'file-b' }));
    const env = { [ALLOWED_TRAINERS_ENV]: JSON.stringify({ b: ['env-b'], c: ['env-c'] }) };
    expect(resolveAllowed(home, ['c=flag-c'], env)).toEqual({ a: ['file-a'], b: ['env-b'], c: ['flag-c'] });
    expect(allowedFromEnv({})).toEqual({});
  });

  it('gives the command for an allowed name, and for any other name says how to allow it', () => {
    const allowed = { sklearn: ['python', 'train.py'] };
    expect(allowedCommand(allowed, 'sklearn')).toEqual(['python', 'train.py']);
    expect(() => allowedCommand(allowed, 'torch')).toThrow(
      'command "torch" is not allowed on this worker (allowed: sklearn); the operator allows one with ' +
        '--allow-trainer torch=COMMAND or in $STRATUM_HOME/trainers.json',
    );
    expect(() => allowedCommand({}, 'torch')).toThrow(/\(none allowed\)/);
    expect(() => allowedCommand(allowed, 'toString')).toThrow(/not allowed/);
    expect(() => allowedCommand(allowed, undefined)).toThrow(/needs params.command/);
  });

  it('is a repeatable flag of serve and worker', () => {
    const parsed = parseCommand(['worker', '--allow-trainer', 'a=x', '--allow-trainer=b=y z'], COMMANDS);
    expect(parsed.flags['allow-trainer']).toEqual(['a=x', 'b=y z']);
    expect(parseCommand(['serve', '--allow-trainer', 'a=x'], COMMANDS).flags['allow-trainer']).toEqual(['a=x']);
    expect(() => parseCommand(['worker', '--tier', 'a', '--tier', 'b'], COMMANDS)).toThrow(/given twice/);
  });
});
