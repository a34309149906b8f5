import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LAYOUT, SERIES_COLOURS, chartWidth, renderChartPng, type GroupedBarChart } from '../bench/chart.js';

const chart: GroupedBarChart = {
  title: 'known values',
  yLabel: 'value',
  groups: ['first', 'second'],
  yMax: 1,
  series: [
    { name: 'tall then half', values: [1.0, 0.5] },
    { name: 'quarter then none', values: [0.25, null] },
  ],
};

interface Rgb {
  width: number;
  height: number;
  pixels: Buffer;
}

/** The PNG decoded by ffmpeg to raw RGB: an independent reader of what resvg drew. */
function decode(png: Buffer, width: number, height: number): Rgb {
  const dir = mkdtempSync(join(tmpdir(), 'streamqc-chart-'));
  try {
    const file = join(dir, 'chart.png');
    writeFileSync(file, png);
    const pixels = execFileSync(
      'ffmpeg',
      ['-hide_banner', '-loglevel', 'error', '-i', file, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'],
      {
        maxBuffer: 64 << 20,
      },
    );
    assert.equal(pixels.length, width * height * 3);
    return { width, height, pixels };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function hexRgb(hex: string): [number, number, number] {
  return [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)) as [number, number, number];
}

/**
 * Bars of one colour, left to right, as their pixel heights: runs of adjacent columns holding
 * a vertical stretch of more than `minPixels` pixels of that colour (the legend swatch is 14 px
 * tall, so it is not a bar).
 */
function barHeights(img: Rgb, hex: string, minPixels = 20): number[] {
  const [r, g, b] = hexRgb(hex);
  const near = (i: number): boolean =>
    Math.abs(img.pixels[i]! - r) <= 2 && Math.abs(img.pixels[i + 1]! - g) <= 2 && Math.abs(img.pixels[i + 2]! - b) <= 2;
  // Per column, the longest vertical run of the colour: a legend swatch above a bar is not added to it.
  const perColumn: number[] = [];
  for (let x = 0; x < img.width; x++) {
    let run = 0;
    let longest = 0;
    for (let y = 0; y < img.height; y++) {
      run = near((y * img.width + x) * 3) ? run + 1 : 0;
      longest = Math.max(longest, run);
    }
    perColumn.push(longest);
  }
  const bars: number[] = [];
  let current = 0;
  for (const n of [...perColumn, 0]) {
    if (n > minPixels) current = Math.max(current, n);
    else if (current > 0) {
      bars.push(current);
      current = 0;
    }
  }
  return bars;
}

test('a chart renders to a PNG of the chart size', () => {
  const png = renderChartPng(chart);
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  assert.equal(png.subarray(12, 16).toString('latin1'), 'IHDR');
  assert.equal(png.readUInt32BE(16), chartWidth(chart));
  assert.equal(png.readUInt32BE(20), LAYOUT.height);
});

test('bar heights are proportional to the values: 1.0 is twice 0.5 and four times 0.25', () => {
  const png = renderChartPng(chart);
  const img = decode(png, png.readUInt32BE(16), png.readUInt32BE(20));
  const plotHeight = LAYOUT.height - LAYOUT.top - LAYOUT.bottom;

  const first = barHeights(img, SERIES_COLOURS[0]);
  assert.equal(first.length, 2, `two bars in the first series' colour, got ${first.join(', ')}`);
  const [full, half] = first as [number, number];
  assert.ok(Math.abs(full - plotHeight) <= 2, `the 1.0 bar spans the plot (${plotHeight} px), got ${full}`);
  assert.ok(Math.abs(full / half - 2) < 0.03, `1.0 bar ${full} px is twice the 0.5 bar ${half} px`);

  // The second series has one bar (its second value is null, drawn as "n/a").
  const second = barHeights(img, SERIES_COLOURS[1]);
  assert.equal(second.length, 1, `one bar in the second series' colour, got ${second.join(', ')}`);
  assert.ok(Math.abs(full / second[0]! - 4) < 0.1, `1.0 bar ${full} px is four times the 0.25 bar ${second[0]} px`);
});

test('a missing font file is a clear error that names the file and the package', () => {
  assert.throws(
    () => renderChartPng(chart, '/nonexistent/DejaVuSans.ttf'),
    (e: Error) => {
      assert.match(e.message, /\/nonexistent\/DejaVuSans\.ttf is missing/);
      assert.match(e.message, /fonts-dejavu-core/);
      return true;
    },
  );
});

test('a series whose value count differs from the group count is rejected', () => {
  assert.throws(
    () => renderChartPng({ ...chart, series: [{ name: 'short', values: [1] }] }),
    /series "short" has 1 values for 2 groups/,
  );
});
