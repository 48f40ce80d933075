import { create } from '@bufbuild/protobuf';
import { ProfilePointSchema, TierProfileSchema } from '@stratum/proto';

import { fmtShort, latencyThroughput, linePlot, niceTicks, sparkline } from '../charts';

const xy = (points: string): number[][] => points.split(' ').map((p) => p.split(',').map(Number));

describe('sparklines', () => {
  it('runs left to right with the largest value at the top and 0 at the bottom', () => {
    const pts = xy(sparkline([0, 5, 10], 64, 18, 1));
    expect(pts).toEqual([
      [1, 17],
      [32, 9],
      [63, 1],
    ]);
  });

  it('draws one sample as a flat line, no samples as nothing, and an idle series at the bottom', () => {
    expect(xy(sparkline([3], 64, 18, 1))).toEqual([
      [1, 1],
      [63, 1],
    ]);
    expect(sparkline([], 64, 18)).toBe('');
    expect(xy(sparkline([0, 0], 64, 18, 1)).map(([, y]) => y)).toEqual([17, 17]);
    expect(xy(sparkline([NaN, 2], 64, 18, 1))[0]).toEqual([1, 17]);
  });
});

describe('line plots', () => {
  it('picks round ticks that cover the range', () => {
    expect(niceTicks(0, 97)).toEqual([0, 20, 40, 60, 80, 100]);
    expect(niceTicks(0, 4)).toEqual([0, 1, 2, 3, 4]);
    expect(niceTicks(0, 0)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(0, 0.37)).toEqual([0, 0.1, 0.2, 0.3, 0.4]);
  });

  it('places series on shared axes inside the plotting area', () => {
    const plot = linePlot(
      [
        {
          label: 'a',
          points: [
            [0, 0],
            [50, 10],
          ],
        },
        { label: 'b', points: [[100, 20]] },
      ],
      260,
      150,
    );
    const { area } = plot;
    expect(plot.xTicks[plot.xTicks.length - 1]!.at).toBe(area.right);
    expect(plot.yTicks[0]!.at).toBe(area.bottom);
    const dots = plot.series.flatMap((s) => s.dots);
    expect(dots.every((d) => d.x >= area.left && d.x <= area.right && d.y >= area.top && d.y <= area.bottom)).toBe(
      true,
    );
    expect(plot.series[1]!.dots[0]).toMatchObject({ x: area.right, y: area.top, vx: 100, vy: 20 });
  });

  it('turns a tier profile into p99 against throughput, a line per batch size by concurrency', () => {
    const point = (batchSize: number, concurrency: number, throughput: number, p99Ms: number) =>
      create(ProfilePointSchema, { batchSize, concurrency, throughput, p99Ms, requests: 100n });
    const tier = create(TierProfileSchema, {
      points: [point(8, 4, 900, 6), point(1, 4, 300, 9), point(1, 1, 100, 2), point(8, 1, 150, 3)],
    });
    expect(latencyThroughput(tier)).toEqual([
      {
        label: 'batch 1',
        points: [
          [100, 2],
          [300, 9],
        ],
      },
      {
        label: 'batch 8',
        points: [
          [150, 3],
          [900, 6],
        ],
      },
    ]);
    expect([fmtShort(1234), fmtShort(12.34), fmtShort(0.123), fmtShort(7)]).toEqual(['1.2k', '12.3', '0.12', '7']);
  });
});
