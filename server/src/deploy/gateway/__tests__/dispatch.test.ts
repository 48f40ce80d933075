import { ServingError } from '../../../serving/types';
import { DEFAULT_DISPATCH, Dispatcher, type Attempt } from '../dispatch';
import { GatewayStats } from '../stats';
import { RouteTable, type Target } from '../table';

function setup(targets: number, o: Partial<typeof DEFAULT_DISPATCH> = {}) {
  const table = new RouteTable();
  table.apply({
    generation: 1n,
    routes: [
      {
        deployment: 'd',
        modelName: 'm',
        modelVersion: 1,
        scaledToZero: false,
        targets: Array.from({ length: targets }, (_, i) => ({ replicaId: `r${i}`, url: `http://h:${i}` })),
      },
    ],
  });
  const now = () => Date.now();
  const stats = new GatewayStats(now, () => new Map());
  const buffered: string[] = [];
  const dispatcher = new Dispatcher(
    table,
    stats,
    { ...DEFAULT_DISPATCH, bufferTimeoutMs: 20, ...o },
    { onBuffered: (d) => buffered.push(d), now, random: () => 0 },
  );
  return { table, stats, dispatcher, buffered };
}

describe('Dispatcher', () => {
  it('gives up after failing on maxAttempts different replicas, naming the last failure', async () => {
    const { dispatcher, stats, table } = setup(4);
    const seen: string[] = [];
    const refuse = async (t: Target): Promise<Attempt<string>> => {
      seen.push(t.replicaId);
      return { kind: 'retry', reason: 'connect ECONNREFUSED' };
    };
    await expect(dispatcher.dispatch('d', refuse)).rejects.toThrow(
      new ServingError(
        'unavailable',
        'deployment "d": no replica answered, 3 replicas tried; last: replica r2 at http://h:2: connect ECONNREFUSED',
      ),
    );
    expect(seen).toEqual(['r0', 'r1', 'r2']);
    expect(table.get('d')!.targets.map((t) => t.outstanding)).toEqual([0, 0, 0, 0]);
    expect(stats.snapshot(['d'])[0]).toMatchObject({ requests: 1, failures: 1, retries: 2 });
  });

  it('answers from the next replica after one that cannot, counting the retry', async () => {
    const { dispatcher, stats } = setup(2);
    let calls = 0;
    const flaky = async (t: Target): Promise<Attempt<string>> =>
      calls++ === 0 ? { kind: 'retry', reason: 'answered 503' } : { kind: 'answer', value: t.replicaId, failed: false };
    await expect(dispatcher.dispatch('d', flaky)).resolves.toEqual({ value: 'r1', coldStart: false });
    expect(stats.snapshot(['d'])[0]).toMatchObject({ requests: 1, failures: 0, retries: 1 });
  });

  it('sends a request to the least loaded replica, and releases its count when the attempt throws', async () => {
    const { dispatcher, table } = setup(3);
    const [a, b, c] = table.get('d')!.targets;
    a!.outstanding = 2;
    c!.outstanding = 1;
    const boom = async (t: Target): Promise<Attempt<string>> => {
      expect(t).toBe(b);
      expect(t.outstanding).toBe(1);
      throw new Error('boom');
    };
    await expect(dispatcher.dispatch('d', boom)).rejects.toThrow('boom');
    expect([a, b, c].map((t) => t!.outstanding)).toEqual([2, 0, 1]);
  });

  it('buffers when every replica was tried, asks for one once, and fails at the buffer deadline', async () => {
    const { dispatcher, buffered } = setup(1, { maxAttempts: 5 });
    const refuse = async (): Promise<Attempt<string>> => ({ kind: 'retry', reason: 'answered 503: draining' });
    await expect(dispatcher.dispatch('d', refuse)).rejects.toThrow(
      'deployment "d" has no ready replica after 20 ms; last failure: replica r0 at http://h:0: answered 503: draining; retry later',
    );
    expect(buffered).toEqual(['d']);
  });

  it('when every replica has failed the request, retries after the short backoff, not at the buffer deadline', async () => {
    // The soak's case: both replicas ready, both failed this request (a reset during a kill);
    // the request used to wait out the whole buffer time, then fail.
    const { dispatcher, stats } = setup(2, { bufferTimeoutMs: 60_000, retryBackoffMs: 30 });
    const seen: string[] = [];
    const resetTwice = async (t: Target): Promise<Attempt<string>> => {
      seen.push(t.replicaId);
      return seen.length <= 2
        ? { kind: 'retry', reason: 'read ECONNRESET' }
        : { kind: 'answer', value: t.replicaId, failed: false };
    };
    const started = Date.now();
    await expect(dispatcher.dispatch('d', resetTwice)).resolves.toEqual({ value: 'r0', coldStart: false });
    console.log(`answered after a 30 ms backoff in ${Date.now() - started} ms (buffer time 60 s)`);
    expect(seen).toEqual(['r0', 'r1', 'r0']);
    expect(stats.snapshot(['d'])[0]).toMatchObject({ requests: 1, failures: 0, retries: 2 });
  });

  it('waits for a replacement when its only replica is down, backing off on it, instead of giving up', async () => {
    // A worker died with the deployment's only replica; the control plane replaces it on
    // another worker a little later. The request is held, as at scale from zero.
    const { dispatcher, table } = setup(1, { bufferTimeoutMs: 60_000, retryBackoffMs: 20 });
    const tries: { id: string; at: number }[] = [];
    const started = Date.now();
    setTimeout(() => {
      table.apply({
        generation: 2n,
        routes: [
          {
            deployment: 'd',
            modelName: 'm',
            modelVersion: 1,
            scaledToZero: false,
            targets: [{ replicaId: 'r-new', url: 'http://h:9' }],
          },
        ],
      });
    }, 250);
    const deadUntilReplaced = async (t: Target): Promise<Attempt<string>> => {
      tries.push({ id: t.replicaId, at: Date.now() - started });
      return t.replicaId === 'r-new'
        ? { kind: 'answer', value: t.replicaId, failed: false }
        : { kind: 'retry', reason: 'connect ECONNREFUSED' };
    };
    await expect(dispatcher.dispatch('d', deadUntilReplaced)).resolves.toEqual({ value: 'r-new', coldStart: false });
    const dead = tries.filter((t) => t.id === 'r0');
    console.log(`dead replica tried at ${dead.map((t) => t.at).join(', ')} ms; replacement at ${tries.at(-1)!.at} ms`);
    // Backoffs of 20, 40, 80, 160 ms: at most five tries of the dead one in the 250 ms.
    expect(dead.length).toBeGreaterThanOrEqual(2);
    expect(dead.length).toBeLessThanOrEqual(5);
    expect(tries.at(-1)!.id).toBe('r-new');
  });

  it('tries a replica that appears in the table at once, without waiting for a backoff', async () => {
    const { dispatcher, table } = setup(2, { bufferTimeoutMs: 60_000, retryBackoffMs: 60_000 });
    const seen: string[] = [];
    const onlyNew = async (t: Target): Promise<Attempt<string>> => {
      seen.push(t.replicaId);
      if (seen.length === 2) {
        setTimeout(() =>
          table.apply({
            generation: 2n,
            routes: [
              {
                deployment: 'd',
                modelName: 'm',
                modelVersion: 1,
                scaledToZero: false,
                targets: ['r0', 'r1', 'r2'].map((id, i) => ({ replicaId: id, url: `http://h:${i}` })),
              },
            ],
          }),
        );
      }
      return t.replicaId === 'r2'
        ? { kind: 'answer', value: t.replicaId, failed: false }
        : { kind: 'retry', reason: 'answered 503: draining' };
    };
    await expect(dispatcher.dispatch('d', onlyNew)).resolves.toEqual({ value: 'r2', coldStart: false });
    expect(seen).toEqual(['r0', 'r1', 'r2']);
  });

  it('does not come back to a failed replica before its backoff while another one is untried', async () => {
    const { dispatcher } = setup(3, { retryBackoffMs: 60_000 });
    const seen: string[] = [];
    const third = async (t: Target): Promise<Attempt<string>> => {
      seen.push(t.replicaId);
      return seen.length < 3
        ? { kind: 'retry', reason: 'answered 503' }
        : { kind: 'answer', value: 'ok', failed: false };
    };
    await dispatcher.dispatch('d', third);
    expect(seen).toEqual(['r0', 'r1', 'r2']);
  });
});
