/**
 * Sizes and durations as written in specs. The grammar matches the patterns in schema.ts, so
 * anything that validated parses here; anything else throws a RangeError naming the input.
 */

const MIB = 1024 * 1024;

/** Bytes per unit: binary (Ki, Mi…) and decimal (KB/k, MB/M…) as Kubernetes and disks use them. */
const UNITS: Readonly<Record<string, number>> = {
  B: 1,
  Ki: 1024,
  Mi: MIB,
  Gi: 1024 * MIB,
  Ti: 1024 * 1024 * MIB,
  k: 1e3,
  KB: 1e3,
  M: 1e6,
  MB: 1e6,
  G: 1e9,
  GB: 1e9,
  TB: 1e12,
};

const QUANTITY = /^([0-9]+(?:\.[0-9]+)?)\s*(Ki|Mi|Gi|Ti|KB|MB|GB|TB|B|k|M|G)?$/;
const DURATION = /^([0-9]+(?:\.[0-9]+)?)(us|ms|s)$/;

/** A size in bytes (rounded). A bare number, or a string without a unit, is MiB. */
export function parseSizeBytes(q: number | string): number {
  if (typeof q === 'number') {
    if (!Number.isFinite(q) || q < 0) throw new RangeError(`not a size: ${q} (MiB must be a finite number ≥ 0)`);
    return Math.round(q * MIB);
  }
  const m = QUANTITY.exec(q.trim());
  if (!m) throw new RangeError(`not a size: ${JSON.stringify(q)} (e.g. 512Mi, 2Gi, 1GB, or a number of MiB)`);
  return Math.round(Number(m[1]) * UNITS[m[2] ?? 'Mi']!);
}

/** A size in MiB (fractional when the unit is decimal: "1GB" is about 953.67 MiB). */
export function parseQuantityMiB(q: number | string): number {
  if (typeof q === 'number') {
    parseSizeBytes(q); // validates: finite and not negative
    return q;
  }
  return parseSizeBytes(q) / MIB;
}

/** A duration ("250ms", "1.5s", "800us") in milliseconds. */
export function parseDurationMs(s: string): number {
  const m = DURATION.exec(s.trim());
  if (!m) throw new RangeError(`not a duration: ${JSON.stringify(s)} (e.g. 250ms, 1.5s, 800us)`);
  const n = Number(m[1]);
  return m[2] === 's' ? n * 1000 : m[2] === 'us' ? n / 1000 : n;
}
