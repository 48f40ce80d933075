/**
 * V8 flags for Stratum's long-lived Node processes, given on their command line by whoever
 * starts them (local-provisioner.ts, scripts/start.mjs, the benchmarks): V8 reads heap sizes
 * once, when the process starts.
 *
 * Why: under steady load V8 grows the young generation ("semi-spaces") step by step, over
 * minutes, up to 32 MiB, and keeps it. The soak measured it: the control plane's committed new
 * space went from 1 to 32 MiB and the gateway's from 8 to 32 MiB after warm-up while their live
 * heaps stayed flat (heap snapshots minutes apart differ by < 1 MiB), which read as +29% and
 * +33% resident memory.
 */

/**
 * The control plane and the worker agents: a 4 MiB semi-space bounds the young generation at
 * 8 MiB, reached within the first minute. They allocate little per second: with it or without,
 * their GC pauses stay around 1 ms per 1000 requests through the gateway (bench/memory).
 */
export const LONG_LIVED_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4'];

/**
 * The gateway is the data plane and allocates with every request: bounded at 4 MiB it spent
 * 2-6× the GC time per request (10-20 against 2.4-5.6 ms per 1000 requests) and served fewer
 * requests per second in every paired run at saturation (bench/memory, closed loop, c=16). It gets V8's full young generation instead, from the start rather than grown
 * over minutes: its resident memory settles within the first seconds of load.
 */
export const GATEWAY_NODE_FLAGS: readonly string[] = ['--min-semi-space-size=16', '--max-semi-space-size=16'];
