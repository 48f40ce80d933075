/**
 * V8 flags for Stratum's long-lived Node processes (control plane, worker agents, gateway),
 * given on their command line by whoever starts them (local-provisioner.ts, scripts/start.mjs,
 * the benchmarks): V8 reads heap sizes once, when the process starts.
 *
 * Why: under steady load V8 grows the young generation ("semi-spaces") step by step up to
 * 2 × 16 MiB, and keeps it. The soak measured it: the control plane's committed new space went
 * from 1 to 32 MiB and the gateway's to 16 MiB over the first minutes while their live heaps
 * stayed flat (heap snapshots minutes apart differ by < 1 MiB), which read as +29% and +33%
 * resident memory. A 4 MiB semi-space bounds that at 8 MiB, reached within the first minute;
 * the price is more frequent scavenges, each of them short (the survivors are few), which these
 * processes' request rates do not notice.
 */
export const LONG_LIVED_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4'];
