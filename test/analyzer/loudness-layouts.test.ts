/**
 * Channel weighting by the probed layout, and the final figures of a finished input: files in
 * ffmpeg's own layouts, a different level on every channel, analysed by the CLI and by ffmpeg's
 * ebur128 (which weighs channels by the same convention), and the run's summary line compared.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { channelWeightsFor, FFMPEG_LAYOUTS } from '../../analyzer/audio/loudness.js';
import { cachedMedia, runFfmpeg } from '../media/fixtures.js';
import { runCli, summaryLine } from './run-cli.js';

interface Summary {
  msg: string;
  loudness: {
    integratedLufs: number | null;
    loudnessRangeLu: number | null;
    maxMomentaryLufs: number | null;
    maxShortTermLufs: number | null;
    maxTruePeakDbtp: number | null;
  };
}

/** Channel k carries a 1 kHz tone at amplitude 0.02 (k + 1), 6 s long. */
function layoutClip(layout: string): Promise<string> {
  const channels = (FFMPEG_LAYOUTS[layout] ?? '').split('+').length;
  const exprs = Array.from({ length: channels }, (_, k) => `${(0.02 * (k + 1)).toFixed(2)}*sin(2*PI*1000*t)`);
  return cachedMedia(`layout-${layout.replace(/[()]/g, '_')}`, 'wav', (out) => [
    '-hide_banner',
    '-loglevel',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    `aevalsrc=exprs=${exprs.join('|')}:channel_layout=${layout}:duration=6:sample_rate=48000`,
    '-c:a',
    'pcm_f32le',
    out,
  ]);
}

async function ffmpegIntegrated(path: string): Promise<number> {
  const run = await runFfmpeg(['-hide_banner', '-nostats', '-i', path, '-af', 'ebur128', '-f', 'null', '-'], {
    what: 'ebur128',
  });
  const m = /Summary:[\s\S]*?I:\s+(-?[0-9.]+) LUFS/.exec(run.stderr);
  assert.ok(m?.[1], `no summary in ${run.stderr.slice(-500)}`);
  return Number(m[1]);
}

async function summaryOf(path: string): Promise<Summary> {
  const result = await runCli(['analyze', path, '--format', 'text'], 120_000, { STREAMQC_LOG_LEVEL: 'info' });
  assert.equal(result.code, 0, result.stderr);
  const summary = summaryLine(result) as Summary;
  assert.ok(result.stdout.includes(summary.msg), 'the text format prints the summary line on stdout');
  return summary;
}

test("the layout table is ffmpeg's: every layout `ffmpeg -layouts` lists, channel for channel", async () => {
  const run = await runFfmpeg(['-hide_banner', '-layouts'], { what: 'ffmpeg -layouts' });
  const text = run.stdout.toString('utf8');
  const standard = text.slice(text.indexOf('Standard channel layouts:'));
  const listed = Object.fromEntries(
    [...standard.matchAll(/^(\S+)\s+([A-Z0-9]+(?:\+[A-Z0-9]+)*)$/gm)].map((m) => [m[1] ?? '', m[2] ?? '']),
  );
  delete listed.NAME;
  assert.ok(Object.keys(listed).length >= 20, `parsed ${Object.keys(listed).length} layouts from ffmpeg`);
  assert.deepEqual(FFMPEG_LAYOUTS, listed);
});

test('every ffmpeg layout: LFE channels weigh 0, side/back/surround +1.5 dB (1.41), the rest 1.0', () => {
  const surround = new Set(['BL', 'BR', 'BC', 'SL', 'SR', 'TBL', 'TBC', 'TBR', 'SDL', 'SDR']);
  for (const [layout, spelled] of Object.entries(FFMPEG_LAYOUTS)) {
    const names = spelled.split('+');
    const expected = names.map((n) => (n.startsWith('LFE') ? 0 : surround.has(n) ? 1.41 : 1));
    assert.deepEqual(channelWeightsFor(layout, names.length), expected, layout);
  }
  assert.deepEqual(channelWeightsFor('3 channels (FL+FR+LFE)', 3), [1, 1, 0], 'a custom layout ffmpeg spells out');
  assert.deepEqual(channelWeightsFor('6 channels', 6), [1, 1, 1, 0, 1.41, 1.41], 'no order known: 5.1');
  assert.deepEqual(channelWeightsFor('quad', 6), [1, 1, 1, 0, 1.41, 1.41], 'a layout of another count: the default');
});

for (const layout of ['3.0', 'quad', '5.0(side)', '5.1', '5.1(side)', '7.1(wide)']) {
  test(`a ${layout} file is weighted by its layout: integrated loudness within 0.1 LU of ffmpeg's ebur128, final figures in the summary`, async () => {
    const path = await layoutClip(layout);
    const [summary, expected] = await Promise.all([summaryOf(path), ffmpegIntegrated(path)]);
    const { integratedLufs, loudnessRangeLu, maxMomentaryLufs, maxShortTermLufs, maxTruePeakDbtp } = summary.loudness;
    assert.ok(
      integratedLufs !== null && Math.abs(integratedLufs - expected) <= 0.1,
      `ours ${integratedLufs}, ffmpeg ${expected}`,
    );
    // A steady tone: no range, and the maxima read the integrated loudness.
    assert.ok(loudnessRangeLu !== null && loudnessRangeLu < 0.1, `LRA ${loudnessRangeLu}`);
    assert.ok(
      maxMomentaryLufs !== null && Math.abs(maxMomentaryLufs - integratedLufs) < 0.05,
      `max M ${maxMomentaryLufs}`,
    );
    assert.ok(
      maxShortTermLufs !== null && Math.abs(maxShortTermLufs - integratedLufs) < 0.05,
      `max S ${maxShortTermLufs}`,
    );
    assert.ok(maxTruePeakDbtp !== null && maxTruePeakDbtp > -60, `max TP ${maxTruePeakDbtp}`);
    assert.match(
      summary.msg,
      /integrated -?\d+\.\d LUFS, LRA \d+\.\d LU, max momentary .* max true peak -?\d+\.\d dBTP/,
    );
  });
}
