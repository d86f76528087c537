import { bestOverTime, scalePoints, stepPath } from './chart-geometry';

describe('chart geometry', () => {
  const rows = [
    { score: 0.7, finished_at: '2026-01-01T10:02:00Z' },
    { score: 0.5, finished_at: '2026-01-01T10:00:00Z' },
    { score: 0.6, finished_at: '2026-01-01T10:01:00Z' },
    { score: 0.9, finished_at: 'not a date' },
  ];

  it('keeps the best score so far at every finish, in time order, either way round', () => {
    expect(bestOverTime(rows, 'desc').map((point) => point.y)).toEqual([0.5, 0.6, 0.7]);
    expect(bestOverTime(rows, 'asc').map((point) => point.y)).toEqual([0.5, 0.5, 0.5]);
  });

  it('scales into the frame with y growing up, and a flat series in the middle', () => {
    const frame = { width: 100, height: 50, padding: 10 };
    expect(scalePoints([{ x: 0, y: 0 }, { x: 1, y: 1 }], frame)).toEqual([{ x: 10, y: 40 }, { x: 90, y: 10 }]);
    expect(scalePoints([{ x: 5, y: 3 }], frame)).toEqual([{ x: 50, y: 25 }]);
    expect(stepPath([{ x: 10, y: 40 }, { x: 90, y: 10 }])).toBe('M10.0,40.0 H90.0 V10.0');
  });
});
