/**
 * Transport stream clips for the checker's tests, made by ffmpeg and cached: a constant-rate
 * one (the broadcast way: -muxrate pads with null packets and places PCRs by byte position)
 * and a variable-rate one with a PCR every 20 ms (ffmpeg 5.1's own default in VBR mode leaves
 * 80 ms between PCRs, a real TR 101 290 2.3.a error, so the clean clips ask for 20 ms).
 */
import { readFileSync } from 'node:fs';
import { cachedMedia } from './fixtures.js';

/** The lavfi picture and tone every transport clip starts from, for `seconds`. */
export const SOURCE_ARGS = (seconds: number): string[] =>
  `-f lavfi -i testsrc2=size=320x240:rate=25 -f lavfi -i sine=frequency=440:sample_rate=48000 -t ${seconds}`.split(' ');
/** H.264 with a 1 s GOP and no B-frames (so the SEI of each frame sits with its own slice). */
export const VIDEO_ARGS = '-c:v libx264 -preset ultrafast -g 25 -bf 0'.split(' ');
/** Constant rate, as broadcast multiplexers send it: 1.5 Mbit/s, PCR every 20 ms. */
export const CONSTANT_RATE_MUX_ARGS = '-c:a aac -b:a 64k -muxrate 1500k -pcr_period 20 -f mpegts'.split(' ');

export const VIDEO_PID = 256;
export const AUDIO_PID = 257;
export const PMT_PID = 4096;

async function clip(name: string, args: string[], seconds = 8): Promise<Uint8Array> {
  return readFileSync(
    await cachedMedia(name, 'ts', (out) => ['-v', 'error', '-y', ...SOURCE_ARGS(seconds), ...args, out]),
  );
}

/** 8 s, 1.5 Mbit/s constant rate. */
export function constantRateClip(): Promise<Uint8Array> {
  return clip('transport-cbr', [
    ...VIDEO_ARGS,
    ...'-b:v 800k -maxrate 800k -bufsize 800k'.split(' '),
    ...CONSTANT_RATE_MUX_ARGS,
  ]);
}

/** 8 s, variable rate, PCR every 20 ms. */
export function variableRateClip(): Promise<Uint8Array> {
  return clip('transport-vbr', [...VIDEO_ARGS, ...'-c:a aac -b:a 64k -pcr_period 20 -f mpegts'.split(' ')]);
}

/**
 * 40 s, variable rate, with its tables (PAT, PMT, SDT) only every 6 s and a keyframe with each,
 * as a stream cut into 6 s HLS segments carries them (RFC 8216 asks for a PAT and a PMT in each
 * segment, no more).
 */
export function slowTablesClip(): Promise<Uint8Array> {
  return clip(
    'transport-tables-6s',
    '-c:v libx264 -preset ultrafast -g 150 -bf 0 -c:a aac -b:a 64k -pcr_period 20 -pat_period 6 -sdt_period 6 -f mpegts'.split(
      ' ',
    ),
    40,
  );
}
