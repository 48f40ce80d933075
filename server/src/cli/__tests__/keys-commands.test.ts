import { create } from '@bufbuild/protobuf';
import { ApiKeySchema, CreateApiKeyResponseSchema } from '@stratum/proto';

import { parseCommand, UsageError } from '../args';
import { COMMANDS } from '../commands';
import { keyJson, keys, keysTable, newKeyText } from '../keys-commands';

const io = { out: () => undefined, err: () => undefined, isTTY: false };
const key = create(ApiKeySchema, { id: 'k01', deployment: 'iris', label: 'bi', createdAtMs: 0n, revokedAtMs: 0n });

describe('stratum keys', () => {
  it('parses through the one grammar, with --label only where it means something', async () => {
    expect(parseCommand(['keys', 'revoke', 'iris', 'k01'], COMMANDS).args).toEqual(['revoke', 'iris', 'k01']);
    // Usage problems are found before any connection is made.
    await expect(keys(['rotate', 'iris'], {}, io)).rejects.toThrow(/keys takes create, list, revoke; got "rotate"/);
    await expect(keys(['revoke', 'iris'], {}, io)).rejects.toThrow(/keys revoke needs DEPLOYMENT KEY_ID/);
    await expect(keys(['list', 'iris', 'k01'], {}, io)).rejects.toThrow(/takes DEPLOYMENT only/);
    await expect(keys(['list', 'iris'], { label: 'x' }, io)).rejects.toThrow(UsageError);
  });

  it('shows a key once with how to send it, and lists without secrets', () => {
    const made = create(CreateApiKeyResponseSchema, { key, secret: `sk-stratum-${'a'.repeat(43)}` });
    const text = newKeyText(made, 'http://127.0.0.1:7071');
    expect(text).toContain(made.secret);
    expect(text).toContain('curl -s -X POST http://127.0.0.1:7071/v2/models/iris/predict -H "Authorization: Bearer');
    expect(keyJson(key)).toEqual({ id: 'k01', deployment: 'iris', label: 'bi', created: '', revoked: '' });
    expect(keysTable([key]).split('\n')[0]).toMatch(/^id +label +created +revoked$/);
  });
});
