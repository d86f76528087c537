/** Pure maths for the hand-written SVG charts (unit-tested without a browser). */
export interface Point {
  x: number;
  y: number;
}

export interface Frame {
  width: number;
  height: number;
  padding: number;
}

/** Maps data points into the frame: x grows right, y grows up; a flat series sits in the middle. */
export function scalePoints(points: Point[], frame: Frame): Point[] {
  if (points.length === 0) return [];
  const xs = points.map((point) => point.x);
  const ys = points.map((point) => point.y);
  const [minX, maxX, minY, maxY] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const innerWidth = frame.width - 2 * frame.padding;
  const innerHeight = frame.height - 2 * frame.padding;
  return points.map((point) => ({
    x: frame.padding + (maxX === minX ? innerWidth / 2 : ((point.x - minX) / (maxX - minX)) * innerWidth),
    y: frame.padding + (maxY === minY ? innerHeight / 2 : (1 - (point.y - minY) / (maxY - minY)) * innerHeight),
  }));
}

/** A step line: the value holds until the next point (a best score only changes when beaten). */
export function stepPath(points: Point[]): string {
  return points
    .map((point, index) => {
      const move = `${point.x.toFixed(1)},${point.y.toFixed(1)}`;
      if (index === 0) return `M${move}`;
      return `H${point.x.toFixed(1)} V${point.y.toFixed(1)}`;
    })
    .join(' ');
}

export function linePath(points: Point[]): string {
  return points.map((point, index) => `${index === 0 ? 'M' : 'L'}${point.x.toFixed(1)},${point.y.toFixed(1)}`).join(' ');
}

/** The best score so far at each job's finish, in finishing order; `order` says which way is better. */
export function bestOverTime(rows: { score: number; finished_at: string }[], order: 'asc' | 'desc'): Point[] {
  const sorted = rows
    .map((row) => ({ time: Date.parse(row.finished_at), score: row.score }))
    .filter((row) => Number.isFinite(row.time) && Number.isFinite(row.score))
    .sort((a, b) => a.time - b.time);
  const best: Point[] = [];
  for (const row of sorted) {
    const previous = best.at(-1)?.y;
    const better = previous === undefined || (order === 'desc' ? row.score > previous : row.score < previous);
    best.push({ x: row.time, y: better ? row.score : previous });
  }
  return best;
}
