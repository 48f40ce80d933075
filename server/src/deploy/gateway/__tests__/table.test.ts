import { RouteTable, type TableSnapshot } from '../table';

const snapshot = (generation: bigint, targets: [string, string][], deployment = 'd'): TableSnapshot => ({
  generation,
  routes: [
    {
      deployment,
      modelName: 'm',
      modelVersion: 1,
      scaledToZero: targets.length === 0,
      targets: targets.map(([replicaId, url]) => ({ replicaId, url })),
    },
  ],
});

describe('RouteTable', () => {
  it('keeps a target’s counters across snapshots while the same replica stays at the same URL', () => {
    const table = new RouteTable();
    expect(table.received).toBe(false);
    table.apply(
      snapshot(1n, [
        ['r1', 'http://a:1/'],
        ['r2', 'http://b:1'],
      ]),
    );
    const [a] = table.get('d')!.targets;
    a!.outstanding = 3;
    a!.ejectedUntil = 99;
    table.apply(
      snapshot(2n, [
        ['r1', 'http://a:1'],
        ['r3', 'http://c:1'],
      ]),
    );
    const targets = table.get('d')!.targets;
    expect(targets.map((t) => [t.replicaId, t.url, t.outstanding, t.ejectedUntil])).toEqual([
      ['r1', 'http://a:1', 3, 99],
      ['r3', 'http://c:1', 0, 0],
    ]);
    expect(targets[0]).toBe(a);
    table.apply(
      snapshot(3n, [
        ['r1', 'http://a:2'],
        ['r1', 'http://a:2'],
      ]),
    );
    expect(table.get('d')!.targets.map((t) => [t.key, t.outstanding])).toEqual([['r1 http://a:2', 0]]);
    expect([table.received, table.generation, table.deployments(), [...table.urls()]]).toEqual([
      true,
      3n,
      ['d'],
      ['http://a:2'],
    ]);
  });

  it('wakes waiters on a snapshot that satisfies them, and answers false at the deadline or on close', async () => {
    const table = new RouteTable();
    const clock = () => Date.now();
    const ready = () => (table.get('d')?.targets.length ?? 0) > 0;
    const waiting = table.waitFor(ready, clock() + 60_000, clock);
    table.apply(snapshot(1n, []));
    table.apply(snapshot(2n, [['r1', 'http://a:1']]));
    await expect(waiting).resolves.toBe(true);
    await expect(table.waitFor(() => false, clock() + 10, clock)).resolves.toBe(false);
    await expect(table.waitFor(ready, clock(), clock)).resolves.toBe(true);
    const pending = table.waitFor(() => false, clock() + 60_000, clock);
    table.close();
    await expect(pending).resolves.toBe(false);
    expect(table.isClosed).toBe(true);
  });
});
