/**
 * Content-addressed artifacts (data sets, models): the file name is the SHA-256 of the bytes,
 * so an artifact is written once, shared by every run that uses it, and verifiable on read.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import type { Db } from './db';

const DIGEST = /^sha256:[0-9a-f]{64}$/;

export class ArtifactError extends Error {
  constructor(
    message: string,
    readonly digest: string,
  ) {
    super(message);
    this.name = 'ArtifactError';
  }
}

export function digestOf(bytes: Uint8Array): string {
  return 'sha256:' + createHash('sha256').update(bytes).digest('hex');
}

export function isDigest(value: string): boolean {
  return DIGEST.test(value);
}

export class ArtifactStore {
  constructor(
    private readonly root: string,
    private readonly db?: Db,
  ) {
    mkdirSync(root, { recursive: true, mode: 0o700 });
  }

  /** Path of an artifact; the digest is validated first so a name can never leave the root. */
  pathOf(digest: string): string {
    if (!isDigest(digest))
      throw new ArtifactError(`not a sha256 digest: ${JSON.stringify(digest.slice(0, 80))}`, digest);
    const hex = digest.slice('sha256:'.length);
    return join(this.root, hex.slice(0, 2), hex);
  }

  has(digest: string): boolean {
    return isDigest(digest) && existsSync(this.pathOf(digest));
  }

  /** Stores bytes and returns their digest; atomic (temp file + rename), idempotent. */
  put(bytes: Uint8Array, name = ''): string {
    const digest = digestOf(bytes);
    const path = this.pathOf(digest);
    if (!existsSync(path)) {
      mkdirSync(join(path, '..'), { recursive: true, mode: 0o700 });
      const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
      writeFileSync(tmp, bytes, { mode: 0o600 });
      renameSync(tmp, path);
    }
    this.db
      ?.prepare('INSERT OR IGNORE INTO artifacts (digest, size, name, created_at) VALUES (?, ?, ?, ?)')
      .run(digest, bytes.byteLength, name, Date.now());
    return digest;
  }

  get(digest: string): Buffer {
    const path = this.pathOf(digest);
    if (!existsSync(path)) throw new ArtifactError(`artifact ${digest} not found`, digest);
    const bytes = readFileSync(path);
    if (digestOf(bytes) !== digest) throw new ArtifactError(`artifact ${digest} is corrupt (digest mismatch)`, digest);
    return bytes;
  }

  size(digest: string): number {
    return statSync(this.pathOf(digest)).size;
  }
}
