/**
 * The PCM format every audio meter is built for, checked in one place so that each meter
 * rejects a bad format with the same message, naming the field, the value and what is allowed.
 */

/** Lowest sample rate accepted: telephone-band audio. */
export const MIN_SAMPLE_RATE_HZ = 8000;
/** Highest sample rate accepted: DXD / 8x 96 kHz. */
export const MAX_SAMPLE_RATE_HZ = 768000;
/** Most channels accepted (ffmpeg's own channel-layout limit). */
export const MAX_CHANNELS = 64;

export function assertAudioFormat(sampleRate: number, channels: number): void {
  if (!Number.isInteger(sampleRate) || sampleRate < MIN_SAMPLE_RATE_HZ || sampleRate > MAX_SAMPLE_RATE_HZ) {
    throw new RangeError(
      `sampleRate ${sampleRate} is not allowed: an integer from ${MIN_SAMPLE_RATE_HZ} to ${MAX_SAMPLE_RATE_HZ} Hz`,
    );
  }
  if (!Number.isInteger(channels) || channels < 1 || channels > MAX_CHANNELS) {
    throw new RangeError(`channels ${channels} is not allowed: an integer from 1 to ${MAX_CHANNELS}`);
  }
}

/** Sample rate and channel count of interleaved PCM. */
export interface PcmFormat {
  sampleRate: number;
  channels: number;
}

/**
 * The rate a source above the meters' range is resampled to: broadcast audio's own rate, which
 * keeps everything loudness, silence and clipping measure (the audible band).
 */
export const RESAMPLE_DOWN_TO_HZ = 48000;

/**
 * What the meters are fed for a source's audio: the source's own format when the meters take
 * it (no conversion), else the same channels resampled in the ffmpeg child: a rate below the
 * range goes up to its floor (8 kHz already holds every frequency such a source has, and the
 * work stays bounded: a damaged header claiming 32 Hz made 2 s of file into 2,300 s of audio,
 * 18 s of analysis at 48 kHz), a rate above it down to RESAMPLE_DOWN_TO_HZ.
 * More than MAX_CHANNELS cannot be converted at all: ffmpeg's resampler (needed even to change
 * the sample format) stops at 64 channels, so such audio is refused with the reason.
 */
export function meterFormatFor(source: PcmFormat): { format: PcmFormat } | { refused: string } {
  if (source.channels > MAX_CHANNELS) {
    return {
      refused: `its audio has ${source.channels} channels; at most ${MAX_CHANNELS} can be analysed (ffmpeg cannot convert more)`,
    };
  }
  const rate = source.sampleRate;
  const inRange = Number.isInteger(rate) && rate >= MIN_SAMPLE_RATE_HZ && rate <= MAX_SAMPLE_RATE_HZ;
  const sampleRate = inRange ? rate : rate > MAX_SAMPLE_RATE_HZ ? RESAMPLE_DOWN_TO_HZ : MIN_SAMPLE_RATE_HZ;
  return { format: { sampleRate, channels: source.channels } };
}

/** Frames in an interleaved block; a block that does not hold whole frames is a caller bug. */
export function framesIn(interleaved: Float32Array, channels: number): number {
  if (interleaved.length % channels !== 0) {
    throw new RangeError(
      `interleaved block of ${interleaved.length} samples is not whole frames of ${channels} channels`,
    );
  }
  return interleaved.length / channels;
}

/** Amplitude to decibels relative to full scale; 0 is -Infinity (digital silence). */
export function amplitudeToDb(amplitude: number): number {
  return 20 * Math.log10(amplitude);
}
