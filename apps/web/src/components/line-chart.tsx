import { linePath, scalePoints, stepPath, type Point } from '../chart-geometry';

const FRAME = { width: 320, height: 140, padding: 12 };

/**
 * A small inline SVG chart: no chart library. `label` names it for screen readers; the first and
 * last values are printed beside it so the numbers are readable without the picture.
 */
export function LineChart({ points, label, step = false, formatX }: { points: Point[]; label: string; step?: boolean; formatX: (x: number) => string }) {
  if (points.length === 0) return <p class="muted">{label}: nothing to draw yet.</p>;
  const scaled = scalePoints(points, FRAME);
  const first = points[0];
  const last = points[points.length - 1];
  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${FRAME.width} ${FRAME.height}`} role="img" aria-label={label}>
        <rect x="0" y="0" width={FRAME.width} height={FRAME.height} class="chart-frame" />
        <path d={step ? stepPath(scaled) : linePath(scaled)} class="chart-line" />
        {scaled.map((point, index) => (
          <circle key={index} cx={point.x} cy={point.y} r="2.5" class="chart-dot" />
        ))}
      </svg>
      <figcaption>
        {label}: {formatNumber(first.y)} ({formatX(first.x)}) → {formatNumber(last.y)} ({formatX(last.x)}), {points.length} point{points.length === 1 ? '' : 's'}
      </figcaption>
    </figure>
  );
}

export function formatNumber(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  return Number.isInteger(value) ? String(value) : value.toPrecision(4);
}

export function formatTime(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '–';
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? String(value) : date.toLocaleString();
}
