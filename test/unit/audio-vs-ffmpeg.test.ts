/**
 * The audio meter against ffmpeg's own `ebur128` filter on the same samples: ffmpeg renders a
 * signal to f32, the very same bytes go through our meter and through `ebur128`, and every
 * 100 ms reading of ffmpeg's frame log is compared with ours at the same sample position.
 * ffmpeg prints one decimal, so agreement within 0.2 LU leaves 0.15 LU for real differences.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AudioMeter } from '../../analyzer/audio/meter.js';
import { ffmpegEbur128, loudnessDifference, renderLavfi, type PcmFormat } from './audio-ffmpeg.js';

const TOLERANCE_LU = 0.2;
/** The block size the analyzer decodes with. */
const BLOCK_FRAMES = 1024;

interface Readings {
  momentaryLufs: number;
  shortTermLufs: number;
  integratedLufs: number;
}

interface Comparison {
  momentary: number;
  shortTerm: number;
  integrated: number;
  readings: number;
  summaryIntegrated: number;
  summaryRange: number;
  summaryTruePeak: number;
}

/** Pushes `pcm` in analyzer-sized blocks and compares with ebur128; returns the max differences. */
async function compareWithFfmpeg(graph: string, format: PcmFormat): Promise<Comparison> {
  const pcm = await renderLavfi(graph, format);
  const ref = await ffmpegEbur128(pcm, format);
  const meter = new AudioMeter(format.sampleRate, format.channels);
  const per100ms = Math.round(format.sampleRate / 10);
  // Our readings as of each 100 ms boundary: a 1024-frame block never spans two boundaries,
  // so the readings after the last block that passed boundary k are the readings at k.
  const atBoundary = new Map<number, Readings>();
  const step = BLOCK_FRAMES * format.channels;
  for (let offset = 0; offset < pcm.length; offset += step) {
    const block = pcm.subarray(offset, Math.min(pcm.length, offset + step));
    const measures = meter.push(block);
    const boundary = Math.floor((offset + block.length) / format.channels / per100ms);
    atBoundary.set(boundary, {
      momentaryLufs: measures.momentaryLufs,
      shortTermLufs: measures.shortTermLufs,
      integratedLufs: meter.integratedLufs,
    });
  }

  assert.ok(ref.readings.length >= 50, `ffmpeg gave only ${ref.readings.length} readings`);
  const worst = { momentary: 0, shortTerm: 0, integrated: 0 };
  for (const r of ref.readings) {
    // ffmpeg stamps a reading with the time of the 100 ms period's last sample.
    const boundary = Math.round(r.t * 10);
    const ours = atBoundary.get(boundary);
    assert.ok(ours, `no reading of ours at ${boundary / 10} s`);
    const diffs = {
      momentary: loudnessDifference(ours.momentaryLufs, r.momentaryLufs),
      shortTerm: loudnessDifference(ours.shortTermLufs, r.shortTermLufs),
      integrated: loudnessDifference(ours.integratedLufs, r.integratedLufs),
    };
    for (const key of ['momentary', 'shortTerm', 'integrated'] as const) {
      assert.ok(
        diffs[key] <= TOLERANCE_LU,
        `${key} at t=${r.t}: ours ${JSON.stringify(ours)}, ffmpeg ${JSON.stringify(r)}`,
      );
      worst[key] = Math.max(worst[key], diffs[key]);
    }
  }
  return {
    ...worst,
    readings: ref.readings.length,
    summaryIntegrated: meter.integratedLufs - ref.integratedLufs,
    summaryRange: meter.loudnessRangeLu - ref.loudnessRangeLu,
    summaryTruePeak: meter.truePeakMaxDbtp - ref.truePeakDbtp,
  };
}

function report(c: Comparison): string {
  const f = (x: number): string => x.toFixed(3);
  return (
    `${c.readings} readings; max |diff| M ${f(c.momentary)} S ${f(c.shortTerm)} I ${f(c.integrated)} LU; ` +
    `summary I ${f(c.summaryIntegrated)} LU, LRA ${f(c.summaryRange)} LU, true peak ${f(c.summaryTruePeak)} dB`
  );
}

const STEREO_48K: PcmFormat = { sampleRate: 48000, channels: 2, layout: 'stereo' };
const STEREO_44K: PcmFormat = { sampleRate: 44100, channels: 2, layout: 'stereo' };
const SURROUND_51: PcmFormat = { sampleRate: 48000, channels: 6, layout: '5.1' };

/** Two independent noise channels (different seeds) joined into stereo. */
function stereoNoise(color: string, amplitude: number, sampleRate: number, seconds: number): string {
  const source = (seed: number, label: string): string =>
    `anoisesrc=c=${color}:a=${amplitude}:seed=${seed}:r=${sampleRate}:d=${seconds}[${label}]`;
  return `${source(11, 'l')};${source(29, 'r')};[l][r]join=inputs=2:channel_layout=stereo`;
}

const CASES: { name: string; graph: string; format: PcmFormat }[] = [
  {
    name: 'a 1 kHz stereo sine at -20 dBFS, 48 kHz',
    graph: 'aevalsrc=exprs=0.1*sin(2*PI*1000*t)|0.1*sin(2*PI*1000*t):c=stereo:s=48000:d=8',
    format: STEREO_48K,
  },
  {
    name: 'a 100 Hz sine at -6 dBFS left and a 5 kHz sine at -30 dBFS right, 44.1 kHz',
    graph: 'aevalsrc=exprs=0.5*sin(2*PI*100*t)|0.0316*sin(2*PI*5000*t):c=stereo:s=44100:d=8',
    format: STEREO_44K,
  },
  {
    name: 'stereo pink noise, 48 kHz',
    graph: stereoNoise('pink', 0.25, 48000, 10),
    format: STEREO_48K,
  },
  {
    name: 'stereo brown noise, 44.1 kHz',
    graph: stereoNoise('brown', 0.5, 44100, 10),
    format: STEREO_44K,
  },
  {
    name: 'a 1 kHz sine jumping -36 -> -16 -> -28 dBFS at 5 s and 10 s, 48 kHz',
    graph:
      "aevalsrc=exprs='if(lt(t,5),0.01585,if(lt(t,10),0.1585,0.0398))*sin(2*PI*1000*t)'|" +
      "'if(lt(t,5),0.01585,if(lt(t,10),0.1585,0.0398))*sin(2*PI*1000*t)':c=stereo:s=48000:d=14",
    format: STEREO_48K,
  },
  {
    name: '5.1 with a loud LFE and quiet surrounds, 48 kHz',
    graph:
      'aevalsrc=exprs=0.1*sin(2*PI*1000*t)|0.05*sin(2*PI*700*t)|0.07*sin(2*PI*400*t)|' +
      '0.5*sin(2*PI*60*t)|0.08*sin(2*PI*2500*t)|0.03*sin(2*PI*6000*t):c=5.1:s=48000:d=8',
    format: SURROUND_51,
  },
];

for (const { name, graph, format } of CASES) {
  test(`${name}: momentary, short-term and integrated loudness agree with ffmpeg ebur128 within 0.2 LU`, async (t) => {
    const c = await compareWithFfmpeg(graph, format);
    t.diagnostic(report(c));
    assert.ok(Math.abs(c.summaryIntegrated) <= TOLERANCE_LU, report(c));
    assert.ok(Math.abs(c.summaryRange) <= TOLERANCE_LU, report(c));
  });
}
