/**
 * The digest's six-month trend chart: open findings per severity, as inline SVG rendered on the
 * server with vega-lite 5 → vega 5 (`renderer: 'none'`, `toSVG()`), so that the mail needs no
 * script and no image download. The text uses a Japanese-capable font stack.
 */
import * as vega from 'vega';
import * as vl from 'vega-lite';
import { SEVERITIES, type Severity } from '../rules/ids';
import type { TrendPoint } from './model';

/** The font stack of the chart and the digest (IPAGothic is what Debian and CI have). */
export const FONT_FAMILY = "'Yu Gothic', 'YuGothic', Meiryo, 'Hiragino Sans', 'IPAGothic', 'IPAPGothic', 'Noto Sans CJK JP', sans-serif";

/** Severity colours, shared with the tables so that the legend reads the same in both. */
export const SEVERITY_COLOURS: Record<Severity, string> = { critical: '#b00020', high: '#e65100', medium: '#f9a825', low: '#607d8b' };

export interface ChartLabels {
  severities: Record<Severity, string>;
  /** Axis title of the counts. */
  count: string;
  /** How a month is written on the axis (YYYY-MM → label). */
  month: (month: string) => string;
}

/**
 * The trend as an SVG string. Months without a full scan have no point (a gap, not a zero):
 * "no data" must not read as "no findings".
 */
export async function trendSvg(points: readonly TrendPoint[], labels: ChartLabels): Promise<string> {
  const values = points.flatMap((p) => (p.counts ? SEVERITIES.map((s) => ({ month: labels.month(p.month), severity: labels.severities[s], count: (p.counts as Record<Severity, number>)[s] })) : []));
  const spec: vl.TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    width: 520,
    height: 200,
    background: '#ffffff',
    data: { values },
    mark: { type: 'line', point: { size: 50 }, strokeWidth: 2 },
    encoding: {
      x: { field: 'month', type: 'ordinal', sort: points.map((p) => labels.month(p.month)), scale: { domain: points.map((p) => labels.month(p.month)) }, title: null, axis: { labelAngle: 0 } },
      y: { field: 'count', type: 'quantitative', title: labels.count, axis: { tickMinStep: 1 } },
      color: {
        field: 'severity',
        type: 'nominal',
        title: null,
        scale: { domain: SEVERITIES.map((s) => labels.severities[s]), range: SEVERITIES.map((s) => SEVERITY_COLOURS[s]) },
        legend: { orient: 'right' },
      },
    },
    config: { font: FONT_FAMILY, view: { stroke: null }, axis: { labelFontSize: 11, titleFontSize: 11 }, legend: { labelFontSize: 11 } },
  };
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
