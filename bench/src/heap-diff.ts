/**
 * bench/heap-diff: what a V8 heap snapshot holds, by constructor, or what grew between two of
 * the same process (no GUI needed). Snapshots come from `node --heapsnapshot-signal=SIGUSR2`
 * (kill -USR2 PID writes Heap.*.heapsnapshot in the process's working directory; V8 collects
 * garbage first, so both hold live objects only) or v8.writeHeapSnapshot().
 *
 *   node bench/dist/heap-diff.js A.heapsnapshot [B.heapsnapshot] [--top 30]
 *
 * Sizes are self sizes (what each object takes itself), summed per node type and constructor;
 * strings, code and numbers are one group each. A leak shows as a constructor whose count and
 * size grow between two snapshots minutes apart under the same load.
 */
import { readFileSync } from 'node:fs';

interface Snapshot {
  readonly snapshot: {
    readonly meta: { readonly node_fields: string[]; readonly node_types: [string[], ...unknown[]] };
  };
  readonly nodes: number[];
  readonly strings: string[];
}

export interface Group {
  count: number;
  bytes: number;
}

const ONE_GROUP: Record<string, string> = {
  string: '(strings)',
  'concatenated string': '(strings)',
  'sliced string': '(strings)',
  code: '(compiled code)',
  number: '(heap numbers)',
};

/** Self size and count per "type constructor" of a parsed snapshot. */
export function groups(s: Snapshot): { byKey: Map<string, Group>; totalBytes: number } {
  const fields = s.snapshot.meta.node_fields;
  const types = s.snapshot.meta.node_types[0];
  const [iType, iName, iSize] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f));
  if ([iType, iName, iSize].some((i) => i! < 0))
    throw new Error('not a V8 heap snapshot: no type/name/self_size node fields');
  const byKey = new Map<string, Group>();
  let totalBytes = 0;
  for (let i = 0; i < s.nodes.length; i += fields.length) {
    const type = types[s.nodes[i + iType!]!] ?? '?';
    const size = s.nodes[i + iSize!]!;
    const key = ONE_GROUP[type] ?? `${type} ${(s.strings[s.nodes[i + iName!]!] ?? '').slice(0, 60)}`;
    const g = byKey.get(key) ?? { count: 0, bytes: 0 };
    g.count++;
    g.bytes += size;
    totalBytes += size;
    byKey.set(key, g);
  }
  return { byKey, totalBytes };
}

/** Growth per key from a to b, largest first. */
export function diff(
  a: Map<string, Group>,
  b: Map<string, Group>,
): { key: string; bytes: number; count: number; countNow: number }[] {
  const keys = new Set([...a.keys(), ...b.keys()]);
  return [...keys]
    .map((key) => {
      const x = a.get(key) ?? { count: 0, bytes: 0 };
      const y = b.get(key) ?? { count: 0, bytes: 0 };
      return { key, bytes: y.bytes - x.bytes, count: y.count - x.count, countNow: y.count };
    })
    .sort((p, q) => q.bytes - p.bytes);
}

function load(path: string): Snapshot {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Snapshot;
  } catch (e) {
    throw new Error(`${path}: cannot read a heap snapshot (${(e as Error).message})`);
  }
}

function main(): void {
  const args = process.argv.slice(2);
  const at = args.indexOf('--top');
  const top = at >= 0 ? Number(args.splice(at, 2)[1]) : 30;
  const [a, b] = args;
  if (!a || !(top > 0)) throw new Error('usage: heap-diff A.heapsnapshot [B.heapsnapshot] [--top N]');
  const mib = (n: number) => (n / 2 ** 20).toFixed(2);
  const first = groups(load(a));
  if (!b) {
    console.log(`${a}: ${mib(first.totalBytes)} MiB in live objects`);
    for (const [key, g] of [...first.byKey].sort((p, q) => q[1].bytes - p[1].bytes).slice(0, top))
      console.log(`${String(g.bytes).padStart(12)} B ${String(g.count).padStart(8)}  ${key}`);
    return;
  }
  const second = groups(load(b));
  console.log(`${mib(first.totalBytes)} MiB → ${mib(second.totalBytes)} MiB in live objects`);
  for (const r of diff(first.byKey, second.byKey).slice(0, top))
    console.log(`${String(r.bytes).padStart(10)} B ${String(r.count).padStart(7)} (now ${r.countNow})  ${r.key}`);
}

if (require.main === module) {
  try {
    main();
  } catch (e) {
    console.error((e as Error).message);
    process.exit(1);
  }
}
