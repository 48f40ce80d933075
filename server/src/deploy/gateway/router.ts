/**
 * The router's policy, pure: which ready replica takes the next request, and which failures
 * another replica should retry. As in Ray Serve, the router only chooses and retries; the
 * control plane decides which replicas exist.
 */

export interface TargetView {
  /** The replica id, unique within a deployment. */
  readonly key: string;
  readonly url: string;
  /** Requests this gateway has sent it that have not been answered. */
  readonly outstanding: number;
  /** A recent connection failure moves it to the back until this time (ms). */
  readonly ejectedUntil: number;
}

/**
 * Least outstanding requests among the targets not yet tried for this request; targets that
 * failed recently go last, ties go to `random`. Undefined when every target was tried.
 */
export function pickTarget<T extends TargetView>(
  targets: readonly T[],
  tried: ReadonlySet<string>,
  now: number,
  random: () => number = Math.random,
): T | undefined {
  let best: T[] = [];
  let bestRank = Infinity;
  for (const t of targets) {
    if (tried.has(t.key)) continue;
    // Ejected targets rank after every healthy one, whatever their load.
    const rank = (t.ejectedUntil > now ? 1e12 : 0) + t.outstanding;
    if (rank < bestRank) {
      best = [t];
      bestRank = rank;
    } else if (rank === bestRank) {
      best.push(t);
    }
  }
  if (best.length === 0) return undefined;
  return best[Math.min(best.length - 1, Math.floor(random() * best.length))];
}

/** Error codes of a connection that never carried an answer, or broke before one came. */
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ECONNABORTED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'UND_ERR_SOCKET',
]);

/** The system error code of a failed request, looking through `cause` chains. */
export function errorCode(e: unknown): string | undefined {
  for (let cur: unknown = e, depth = 0; cur && depth < 5; depth++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}

/** A network failure talking to a replica: another replica should get the request. */
export const isConnectionFailure = (e: unknown): boolean => {
  const code = errorCode(e);
  return code !== undefined && CONNECTION_CODES.has(code);
};

/**
 * Statuses of a replica that cannot answer now (draining, overloaded, gone behind a proxy):
 * retried elsewhere. Never a 4xx: the request itself is wrong and would be wrong anywhere.
 */
export const isRetriableStatus = (status: number): boolean => status === 502 || status === 503 || status === 504;

/** Delay before the n-th resubscription (0-based): doubling from `initialMs` up to `maxMs`, with jitter. */
export function backoffMs(
  attempt: number,
  o: { initialMs: number; maxMs: number },
  random: () => number = Math.random,
): number {
  const base = Math.min(o.maxMs, o.initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(base * (0.5 + random() / 2));
}
