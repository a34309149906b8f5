/**
 * silence: the audio is below the noise floor on every channel (ffmpeg's silencedetect
 * defaults: noise -60 dB, duration 2 s, all channels together). One quiet channel of a
 * programme that plays on the others is not silence.
 */
import { bool, num, type OptionTable, type OptionValues } from '../options.js';
import { DefectTracker, defineDetector, type DefectSink, type Detector } from './detector.js';

export const silenceOptions = {
  enabled: bool(true, 'Report silent audio'),
  noiseDbfs: num(-60, -200, 0, 'Sample peak below which a channel is silent', { unit: 'dBFS' }),
  minDuration: num(2, 0, 3600, 'Shortest silence reported', { unit: 's' }),
} satisfies OptionTable;

export type SilenceOptions = OptionValues<typeof silenceOptions>;

export function createSilenceDetector(options: SilenceOptions, sink: DefectSink<'silence'>): Detector<'silence'> {
  const tracker = new DefectTracker('silence', sink, options.minDuration);
  return {
    type: 'silence',
    onAudio({ t, duration, peakDbfs }) {
      // A block without channels says nothing about the audio.
      if (peakDbfs.length === 0) return;
      const silent = peakDbfs.every((peak) => peak < options.noiseDbfs);
      tracker.update(t, duration, silent, () => ({ peakDbfs: Math.max(...peakDbfs) }));
    },
    flush(t) {
      tracker.close(t);
    },
  };
}

export const silenceDetector = defineDetector({
  type: 'silence',
  options: silenceOptions,
  create: (options, { sink }) => createSilenceDetector(options, sink),
});
