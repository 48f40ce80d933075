import {
  checkApiKey,
  generateApiKey,
  hashApiKey,
  KEY_PREFIX,
  KeyRefused,
  keyMatches,
  presentedKey,
  withoutKey,
} from '../api-keys';

describe('API keys (pure)', () => {
  it('makes keys of 32 random bytes behind a prefix, different each time', () => {
    const a = generateApiKey();
    const b = generateApiKey();
    expect(a).toMatch(/^sk-stratum-[A-Za-z0-9_-]{43}$/);
    expect(a).not.toBe(b);
    // The injected source is what ends up in the key.
    expect(generateApiKey((n) => Buffer.alloc(n, 0xff))).toBe(
      KEY_PREFIX + Buffer.alloc(32, 0xff).toString('base64url'),
    );
  });

  it('hashes to SHA-256 hex, and matches only a key whose hash is listed', () => {
    const key = generateApiKey();
    const other = generateApiKey();
    expect(hashApiKey(key)).toMatch(/^[0-9a-f]{64}$/);
    expect(keyMatches(key, [hashApiKey(other), hashApiKey(key)])).toBe(true);
    expect(keyMatches(key, [hashApiKey(other)])).toBe(false);
    expect(keyMatches(key, [])).toBe(false);
    // Malformed hashes in the table never match (nor throw).
    expect(keyMatches(key, ['', 'zz', hashApiKey(key).slice(0, 10)])).toBe(false);
    // A value that is not shaped like a key is refused before hashing, even if its hash were listed.
    expect(keyMatches('secret', [hashApiKey('secret')])).toBe(false);
    expect(keyMatches(key + 'x', [hashApiKey(key + 'x')])).toBe(false);
  });

  it('reads the key from Authorization: Bearer or x-api-key', () => {
    expect(presentedKey({ authorization: 'Bearer abc' })).toBe('abc');
    expect(presentedKey({ authorization: 'bearer   abc  ' })).toBe('abc');
    expect(presentedKey({ 'x-api-key': ' abc ' })).toBe('abc');
    expect(presentedKey({ 'x-api-key': ['abc', 'def'] })).toBe('abc');
    expect(presentedKey({ authorization: 'Bearer abc', 'x-api-key': 'def' })).toBe('abc');
    expect(presentedKey({ authorization: 'Basic dXNlcjpwYXNz' })).toBeUndefined();
    expect(presentedKey({ authorization: 'Bearer' })).toBeUndefined();
    expect(presentedKey({ 'x-api-key': '' })).toBeUndefined();
    expect(presentedKey({})).toBeUndefined();
  });

  it('lets open routes through and refuses keyed ones without a valid key, never echoing it', () => {
    const key = generateApiKey();
    const open = { deployment: 'open', requireKey: false, keyHashes: [] };
    const keyed = { deployment: 'iris', requireKey: true, keyHashes: [hashApiKey(key)] };
    expect(() => checkApiKey(open, {})).not.toThrow();
    expect(() => checkApiKey(keyed, { authorization: `Bearer ${key}` })).not.toThrow();
    expect(() => checkApiKey(keyed, { 'x-api-key': key })).not.toThrow();
    expect(() => checkApiKey(keyed, {})).toThrow(/deployment "iris" requires an API key/);
    const wrong = generateApiKey();
    let error: unknown;
    try {
      checkApiKey(keyed, { authorization: `Bearer ${wrong}` });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(KeyRefused);
    expect((error as Error).message).toMatch(/not valid for deployment "iris"/);
    expect((error as Error).message).not.toContain(wrong);
    // A keyed deployment whose keys are all revoked refuses every key.
    expect(() => checkApiKey({ ...keyed, keyHashes: [] }, { 'x-api-key': key })).toThrow(KeyRefused);
  });

  it('strips the key from what goes on to a replica', () => {
    expect(withoutKey({ authorization: 'Bearer k', 'x-api-key': 'k', 'content-type': 'application/json' })).toEqual({
      'content-type': 'application/json',
    });
  });
});
