/**
 * clipping: samples at the clip level bunch up. The audio stage counts them per block against
 * `levelDbfs` from this table. Active while the clipped samples of the last `windowSeconds`
 * reach `minSamples`: an isolated full-scale sample is not audible clipping, a burst is.
 * The event starts at the first clipped block of the window that tripped it and ends after
 * the last clipped block of a window that still did, so a burst is reported as long as it
 * lasts; the window itself is the hysteresis (clipping resuming within it continues the event).
 */
import { bool, num, type OptionTable, type OptionValues } from '../options.js';
import { DefectTracker, defineDetector, type DefectSink, type Detector } from './detector.js';

export const clippingOptions = {
  enabled: bool(true, 'Report bursts of clipped samples'),
  levelDbfs: num(
    -1,
    -20,
    0,
    'Sample level at or above which a sample counts as clipped; -1 (the EBU R128 ceiling) because lossy codecs smear hard clipping below full scale',
    { unit: 'dBFS' },
  ),
  windowSeconds: num(0.1, 0.001, 10, 'Sliding window in which clipped samples are counted', { unit: 's' }),
  minSamples: num(3, 1, 1_000_000, 'Clipped samples within one window that make it clipping (all channels)', {
    integer: true,
  }),
  minDuration: num(0, 0, 3600, 'Shortest clipping reported (0 = every burst)', { unit: 's' }),
} satisfies OptionTable;

export type ClippingOptions = OptionValues<typeof clippingOptions>;

interface ClippedBlock {
  t: number;
  end: number;
  samples: number;
}

export function createClippingDetector(options: ClippingOptions, sink: DefectSink<'clipping'>): Detector<'clipping'> {
  const tracker = new DefectTracker('clipping', sink, options.minDuration);
  // Only blocks that hold clipped samples, oldest first: the window is short, so this stays tiny.
  const recent: ClippedBlock[] = [];
  let inWindow = 0;
  let lastClippedEnd = 0;

  return {
    type: 'clipping',
    onAudio({ t, duration, clippedSamples }) {
      if (clippedSamples > 0) {
        recent.push({ t, end: t + duration, samples: clippedSamples });
        inWindow += clippedSamples;
      }
      // Block resolution: a block counts while it started less than one window before this one.
      while (recent[0] !== undefined && t - recent[0].t >= options.windowSeconds - 1e-9) {
        inWindow -= recent[0].samples;
        recent.shift();
      }
      // minSamples >= 1, so a window that reaches it holds at least one block.
      const first = recent[0];
      const last = recent.at(-1);
      if (first !== undefined && last !== undefined && inWindow >= options.minSamples) {
        lastClippedEnd = last.end;
        tracker.update(first.t, lastClippedEnd - first.t, true, () => ({ clippedSamples: inWindow }));
        return;
      }
      tracker.close(tracker.isActive ? lastClippedEnd : t);
    },
    flush(t) {
      recent.length = 0;
      inWindow = 0;
      tracker.close(t);
    },
  };
}

export const clippingDetector = defineDetector({
  type: 'clipping',
  options: clippingOptions,
  // The audio stage counts clipped samples at this level, whether or not clipping is reported.
  // Lossy codecs smear hard clipping below full scale (an overdriven AAC stream decodes to
  // about -0.4 dBFS peaks), hence the EBU R128 ceiling, -1 dBFS, by default.
  shares: (options) => ({ clipLevel: 10 ** (options.levelDbfs / 20) }),
  create: (options, { sink }) => createClippingDetector(options, sink),
});
