/**
 * API keys of deployments, pure: making a key, its hash, finding the key a request presents,
 * and the gateway's check. The control plane stores only hashes and sends the enabled ones
 * with each route; the gateway compares the presented key's hash with them.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const KEY_PREFIX = 'sk-stratum-';
/** A key is the prefix and 32 random bytes in base64url (43 characters). */
const KEY_SHAPE = /^sk-stratum-[A-Za-z0-9_-]{43}$/;
/** Longer presented values are refused before hashing: nobody makes the gateway hash megabytes. */
const MAX_PRESENTED = 256;

export function generateApiKey(random: (n: number) => Buffer = randomBytes): string {
  return KEY_PREFIX + random(32).toString('base64url');
}

/** SHA-256 in hex: what the store keeps and the routing table carries. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

export type Headers = Readonly<Record<string, string | readonly string[] | undefined>>;

/**
 * The key a request presents: `Authorization: Bearer KEY` (as KServe behind Istio and Seldon
 * clients send it) or `x-api-key: KEY`. Header names are lower case (Node and gRPC metadata).
 */
export function presentedKey(headers: Headers): string | undefined {
  const first = (v: string | readonly string[] | undefined): string | undefined => (typeof v === 'string' ? v : v?.[0]);
  const auth = first(headers.authorization)?.trim();
  const bearer = auth ? /^bearer\s+(\S+)$/i.exec(auth)?.[1] : undefined;
  const key = bearer ?? first(headers['x-api-key'])?.trim();
  return key ? key : undefined;
}

/** Whether `key` hashes to one of `hashes`; every hash is compared, in constant time. */
export function keyMatches(key: string, hashes: readonly string[]): boolean {
  if (key.length > MAX_PRESENTED || !KEY_SHAPE.test(key)) return false;
  const mine = Buffer.from(hashApiKey(key), 'hex');
  let ok = false;
  for (const h of hashes) {
    const theirs = Buffer.from(h, 'hex');
    if (theirs.length === mine.length && timingSafeEqual(theirs, mine)) ok = true;
  }
  return ok;
}

/** The parts of a route the check reads. */
export interface KeyedRoute {
  readonly deployment: string;
  readonly requireKey: boolean;
  readonly keyHashes: readonly string[];
}

/** A request without a valid key for a keyed deployment; the message never holds the key. */
export class KeyRefused extends Error {
  override readonly name = 'KeyRefused';
}

/** Throws KeyRefused unless the route is open or the headers present one of its keys. */
export function checkApiKey(route: KeyedRoute, headers: Headers): void {
  if (!route.requireKey) return;
  const key = presentedKey(headers);
  if (key === undefined) {
    throw new KeyRefused(
      `deployment "${route.deployment}" requires an API key: send "Authorization: Bearer KEY" or "x-api-key: KEY" (stratum keys create ${route.deployment})`,
    );
  }
  if (!keyMatches(key, route.keyHashes)) {
    throw new KeyRefused(`the API key is not valid for deployment "${route.deployment}" (unknown or revoked)`);
  }
}

/** Headers to send on to a replica: the key stops at the gateway. */
export function withoutKey<T extends Record<string, unknown>>(headers: T): T {
  const out = { ...headers };
  delete out.authorization;
  delete out['x-api-key'];
  return out;
}
