/**
 * Captions put into an H.264 elementary stream the way broadcast encoders carry them: an SEI
 * NAL unit (payload type 4, ITU-T T.35 registered user data, ATSC A/53 'GA94' cc_data) before
 * the slice of chosen frames. ffmpeg cannot add them itself, so the clip is encoded to raw
 * H.264, the SEI units are spliced in here, and ffmpeg muxes the result into a TS unchanged.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runFfmpeg } from './fixtures.js';
import { CONSTANT_RATE_MUX_ARGS, SOURCE_ARGS, VIDEO_ARGS } from './transport-clips.js';

/** One cc_data triple: cc_type (0/1 = 608 field 1/2, 2/3 = DTVCC data/start) and its two bytes. */
export interface Triple {
  type: number;
  data1: number;
  data2: number;
}

/** CEA-608 bytes carry odd parity in their top bit. */
export function oddParity(b: number): number {
  let ones = 0;
  for (let v = b & 0x7f; v; v >>= 1) ones += v & 1;
  return ones % 2 === 0 ? b | 0x80 : b & 0x7f;
}

/** A 608 pair with parity; the text 'HI' becomes [0x48, 0x49]. */
export const pair608 = (field: 0 | 1, b1: number, b2: number): Triple => ({
  type: field,
  data1: oddParity(b1),
  data2: oddParity(b2),
});

function seiNal(triples: readonly Triple[]): number[] {
  const ccData = [0x40 | triples.length, 0xff, ...triples.flatMap((t) => [0xfc | t.type, t.data1, t.data2]), 0xff];
  const payload = [0xb5, 0x00, 0x31, 0x47, 0x41, 0x39, 0x34, 0x03, ...ccData];
  const rbsp = [0x04, payload.length, ...payload, 0x80];
  return [0, 0, 0, 1, 0x06, ...escapeRbsp(rbsp)];
}

/** emulation_prevention_three_byte (H.264 §7.4.1): no 00 00 0x (x <= 3) may appear inside a NAL unit. */
export function escapeRbsp(rbsp: readonly number[]): number[] {
  const escaped: number[] = [];
  let zeros = 0;
  for (const b of rbsp) {
    if (zeros >= 2 && b <= 3) {
      escaped.push(3);
      zeros = 0;
    }
    escaped.push(b);
    zeros = b === 0 ? zeros + 1 : 0;
  }
  return escaped;
}

/** Splice an SEI before the slice of each frame that `captionsOf(frame)` gives triples for. */
function withCaptions(h264: Uint8Array, captionsOf: (frame: number) => Triple[] | null): Uint8Array {
  const out: number[] = [];
  let frame = 0;
  let i = 0;
  const startAt = (k: number): boolean =>
    h264[k] === 0 && h264[k + 1] === 0 && (h264[k + 2] === 1 || (h264[k + 2] === 0 && h264[k + 3] === 1));
  while (i < h264.length) {
    if (startAt(i)) {
      const header = i + (h264[i + 2] === 1 ? 3 : 4);
      const type = h264[header]! & 0x1f;
      // A slice whose first_mb_in_slice is 0 (ue(v) '1', the top bit of the next byte) starts a picture.
      if ((type === 1 || type === 5) && (h264[header + 1]! & 0x80) !== 0) {
        const triples = captionsOf(frame++);
        if (triples) out.push(...seiNal(triples));
      }
    }
    out.push(h264[i]!);
    i++;
  }
  return Uint8Array.from(out);
}

/**
 * A 4 s, 25 fps, constant-rate TS whose frames carry the triples `captionsOf` gives them
 * (frame numbers from 0).
 */
export async function captionedClip(captionsOf: (frame: number) => Triple[] | null): Promise<Uint8Array> {
  const dir = mkdtempSync(join(tmpdir(), 'streamqc-captions-'));
  try {
    const raw = join(dir, 'plain.h264');
    const [, , , video] = SOURCE_ARGS(4);
    const encode = [
      '-v',
      'error',
      '-f',
      'lavfi',
      '-i',
      video!,
      '-t',
      '4',
      ...VIDEO_ARGS,
      '-x264-params',
      'sliced-threads=0',
    ];
    await runFfmpeg([...encode, '-f', 'h264', raw], { what: 'encoding raw H.264' });
    const captioned = join(dir, 'captioned.h264');
    writeFileSync(captioned, withCaptions(readFileSync(raw), captionsOf));
    const ts = join(dir, 'captioned.ts');
    const tone = ['-f', 'lavfi', '-i', 'sine=sample_rate=48000', '-t', '4'];
    const mux = ['-v', 'error', '-framerate', '25', '-f', 'h264', '-i', captioned, ...tone, '-c:v', 'copy'];
    await runFfmpeg([...mux, ...CONSTANT_RATE_MUX_ARGS, ts], { what: 'muxing the captioned stream' });
    return readFileSync(ts);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
