/**
 * Grouped bar charts for the benchmark report: an SVG string built from the figures (title,
 * y axis with ticks and grid, legend, a label under each group, the value over each bar), then
 * rendered to PNG by resvg with one bundled font, so the picture does not depend on which
 * fonts a machine happens to have.
 */
import { existsSync } from 'node:fs';
import { Resvg } from '@resvg/resvg-js';

/** Debian's fonts-dejavu-core (scripts/setup.sh installs it when STREAMQC_NEED_FONTS=1). */
export const CHART_FONT_FILE = '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf';
const FONT_FAMILY = 'DejaVu Sans';

/**
 * Okabe and Ito's palette: distinguishable with every common colour-vision deficiency and in
 * greyscale print; series take the colours in this order.
 */
export const SERIES_COLOURS = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00'] as const;

const INK = '#222222';
const MUTED = '#555555';
const GRID = '#dddddd';

export interface BarSeries {
  name: string;
  /** One value per group; null where the series has no figure (drawn as "n/a"). */
  values: (number | null)[];
}

export interface GroupedBarChart {
  title: string;
  yLabel: string;
  groups: string[];
  series: BarSeries[];
  /** Top of the y axis; by default a round number at or above the largest value. */
  yMax?: number;
  /** Decimals of the value labels over the bars. */
  valueDigits?: number;
}

/** Chart geometry in SVG pixels; exported so tests can relate pixels to values. */
export const LAYOUT = {
  height: 480,
  top: 78,
  bottom: 44,
  left: 78,
  right: 24,
  /** Bars widen to fill the plot up to maxBarWidth; the chart widens to keep minBarWidth. */
  minBarWidth: 30,
  maxBarWidth: 56,
  groupGap: 36,
  minWidth: 640,
  /** Legend text: an upper bound of DejaVu Sans's advance at 13 px, to lay out the legend. */
  legendCharWidth: 7.6,
} as const;

function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A tick step of 1, 2, 2.5 or 5 times a power of ten giving about `count` intervals. */
export function niceStep(max: number, count = 5): number {
  if (!(max > 0)) return 1;
  const raw = max / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= raw);
  return step ?? 10 * power;
}

/** Ticks from 0 to yMax (inclusive) at a nice step; yMax itself is rounded up to a tick. */
function axisTicks(chart: GroupedBarChart): { yMax: number; ticks: number[] } {
  const largest = Math.max(
    0,
    ...chart.series.flatMap((s) => s.values.filter((v): v is number => v !== null && Number.isFinite(v))),
  );
  const wanted = chart.yMax ?? largest;
  const step = niceStep(wanted);
  // 5 % headroom, so the tallest bar's value label stays inside the plot.
  const yMax = chart.yMax ?? Math.max(step, Math.ceil((wanted * 1.05) / step) * step);
  const ticks: number[] = [];
  for (let i = 0; i * step <= yMax + step * 1e-6; i++) ticks.push(i * step);
  return { yMax, ticks };
}

/** Decimals that print every tick exactly (0.25 needs 2, 20 needs none). */
function tickDigits(ticks: readonly number[]): number {
  for (let d = 0; d < 4; d++) if (ticks.every((t) => Math.abs(Number(t.toFixed(d)) - t) < 1e-9)) return d;
  return 4;
}

/** Width of each legend entry: swatch, gap, name, space before the next entry. */
function legendWidths(chart: GroupedBarChart): number[] {
  return chart.series.map((s) => 20 + Math.ceil(s.name.length * LAYOUT.legendCharWidth) + 24);
}

export function chartWidth(chart: GroupedBarChart): number {
  const groupWidth = chart.series.length * LAYOUT.minBarWidth + LAYOUT.groupGap;
  const bars = LAYOUT.left + LAYOUT.right + chart.groups.length * groupWidth;
  const legend = LAYOUT.left + LAYOUT.right + legendWidths(chart).reduce((a, b) => a + b, 0);
  return Math.max(LAYOUT.minWidth, bars, legend);
}

export function groupedBarSvg(chart: GroupedBarChart): string {
  for (const s of chart.series) {
    if (s.values.length !== chart.groups.length) {
      throw new Error(
        `chart "${chart.title}": series "${s.name}" has ${s.values.length} values for ${chart.groups.length} groups`,
      );
    }
  }
  if (chart.series.length > SERIES_COLOURS.length) {
    throw new Error(`chart "${chart.title}": ${chart.series.length} series, at most ${SERIES_COLOURS.length} colours`);
  }
  const width = chartWidth(chart);
  const { height, top, bottom, left, right } = LAYOUT;
  const plotBottom = height - bottom;
  const plotHeight = plotBottom - top;
  const plotWidth = width - left - right;
  const groupWidth = plotWidth / Math.max(1, chart.groups.length);
  const barWidth = Math.min(LAYOUT.maxBarWidth, (groupWidth - LAYOUT.groupGap) / Math.max(1, chart.series.length));
  const { yMax, ticks } = axisTicks(chart);
  const y = (v: number): number => plotBottom - (Math.min(v, yMax) / yMax) * plotHeight;
  const digits = tickDigits(ticks);
  const valueDigits = chart.valueDigits ?? 2;
  const out: string[] = [];
  const text = (x: number, yy: number, s: string, attrs: string): void => {
    out.push(`<text x="${x.toFixed(1)}" y="${yy.toFixed(1)}" ${attrs}>${escapeXml(s)}</text>`);
  };

  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${FONT_FAMILY}">`,
  );
  out.push(`<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`);
  text(left, 28, chart.title, `font-size="18" font-weight="bold" fill="${INK}"`);

  // Legend on one line under the title: a swatch and the series name for each series.
  const legend = legendWidths(chart);
  let lx = left;
  chart.series.forEach((s, i) => {
    out.push(
      `<rect x="${lx}" y="44" width="14" height="14" fill="${SERIES_COLOURS[i]}" shape-rendering="crispEdges"/>`,
    );
    text(lx + 20, 56, s.name, `font-size="13" fill="${INK}"`);
    lx += legend[i]!;
  });

  // Grid lines and tick labels, then the axis lines over them.
  for (const t of ticks) {
    const ty = y(t);
    out.push(
      `<line x1="${left}" y1="${ty.toFixed(1)}" x2="${width - right}" y2="${ty.toFixed(1)}" stroke="${GRID}" stroke-width="1" shape-rendering="crispEdges"/>`,
    );
    text(left - 8, ty + 4, t.toFixed(digits), `font-size="12" fill="${MUTED}" text-anchor="end"`);
  }
  out.push(
    `<line x1="${left}" y1="${top}" x2="${left}" y2="${plotBottom}" stroke="${INK}" stroke-width="1" shape-rendering="crispEdges"/>`,
  );
  out.push(
    `<line x1="${left}" y1="${plotBottom}" x2="${width - right}" y2="${plotBottom}" stroke="${INK}" stroke-width="1" shape-rendering="crispEdges"/>`,
  );
  const midY = (top + plotBottom) / 2;
  text(
    20,
    midY,
    chart.yLabel,
    `font-size="13" fill="${INK}" text-anchor="middle" transform="rotate(-90 20 ${midY.toFixed(1)})"`,
  );

  // Bars: each group centred in its slot, the series side by side in legend order.
  chart.groups.forEach((group, g) => {
    const centre = left + groupWidth * (g + 0.5);
    const x0 = centre - (chart.series.length * barWidth) / 2;
    chart.series.forEach((s, i) => {
      const v = s.values[g] ?? null;
      const bx = x0 + i * barWidth;
      const labelX = bx + barWidth / 2;
      if (v === null || !Number.isFinite(v)) {
        text(labelX, plotBottom - 6, 'n/a', `font-size="10" fill="${MUTED}" text-anchor="middle"`);
        return;
      }
      const by = y(v);
      // 2 px between neighbouring bars keeps them apart without a stroke.
      out.push(
        `<rect x="${(bx + 1).toFixed(1)}" y="${by.toFixed(1)}" width="${(barWidth - 2).toFixed(1)}" height="${(plotBottom - by).toFixed(1)}" fill="${SERIES_COLOURS[i]}" shape-rendering="crispEdges"/>`,
      );
      text(labelX, by - 4, v.toFixed(valueDigits), `font-size="10" fill="${INK}" text-anchor="middle"`);
    });
    text(centre, plotBottom + 20, group, `font-size="11" fill="${INK}" text-anchor="middle"`);
  });
  out.push('</svg>');
  return out.join('\n');
}

/** Renders an SVG to PNG with only `fontFile` loaded; fails clearly when that font is absent. */
export function svgToPng(svg: string, fontFile: string = CHART_FONT_FILE): Buffer {
  if (!existsSync(fontFile)) {
    throw new Error(
      `chart font ${fontFile} is missing: install Debian's fonts-dejavu-core ` +
        '(STREAMQC_NEED_FONTS=1 bash scripts/setup.sh does) to render the benchmark charts',
    );
  }
  const resvg = new Resvg(svg, {
    font: { fontFiles: [fontFile], loadSystemFonts: false, defaultFontFamily: FONT_FAMILY },
    background: '#ffffff',
  });
  return resvg.render().asPng();
}

export function renderChartPng(chart: GroupedBarChart, fontFile: string = CHART_FONT_FILE): Buffer {
  return svgToPng(groupedBarSvg(chart), fontFile);
}
