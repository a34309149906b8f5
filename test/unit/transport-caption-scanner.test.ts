/**
 * The captions scanner reads cc_data from a PES packet's elementary stream as it arrives in TS
 * packet payloads, without joining them: its triples must equal ccTriplesOf on the joined
 * bytes however the stream is cut (start codes split across pieces, 4-byte start codes,
 * trailing zeros, emulation prevention bytes).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CaptionScanner, ccTriplesOf, type CcTriple, type VideoCodec } from '../../analyzer/transport/captions.js';
import { PesAssembler } from '../../analyzer/transport/pes.js';
import { escapeRbsp } from '../media/caption-sei.js';

/** cc_data with `count` triples whose bytes include zero runs (so escaping happens), behind GA94. */
function a53(count: number, seed: number): number[] {
  const triples: number[] = [];
  for (let k = 0; k < count; k++)
    triples.push(0xfc | ((k + seed) % 4), k % 3 === 0 ? 0 : 0x41 + k, k % 2 === 0 ? 0 : 0x20);
  return [0x47, 0x41, 0x39, 0x34, 0x03, 0x40 | count, 0xff, ...triples, 0xff];
}

/** Bytes that look like coded picture data: 0x01s and zeros, but no start code once escaped. */
function picture(length: number, seed: number): number[] {
  const out: number[] = [];
  let x = seed;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    out.push([0, 0, 1, 3, 0xff, x & 0xff][x % 6] ?? 0);
  }
  return escapeRbsp(out);
}

function h264Es(seed: number): Uint8Array {
  const sei = (cc: number[]): number[] => {
    const t35 = [0xb5, 0x00, 0x31, ...cc];
    return [0x06, ...escapeRbsp([0x04, t35.length, ...t35, 0x80])];
  };
  return Uint8Array.from([
    ...[0, 0, 0, 1, 0x09, 0xf0], // access unit delimiter, 4-byte start code
    ...[0, 0, 1, ...sei(a53(3, seed))],
    ...[0, 0], // trailing_zero_8bits
    ...[0, 0, 0, 1, ...sei(a53(5, seed + 1))],
    ...[0, 0, 1], // an empty unit
    ...[0, 0, 1, 0x65, ...picture(700, seed)],
    ...[0, 0, 1, ...sei(a53(2, seed + 2)), 0, 0, 0],
  ]);
}

function hevcEs(seed: number): Uint8Array {
  const sei = (type: number, cc: number[]): number[] => {
    const t35 = [0xb5, 0x00, 0x31, ...cc];
    return [type << 1, 0x01, ...escapeRbsp([0x04, t35.length, ...t35, 0x80])];
  };
  return Uint8Array.from([
    ...[0, 0, 0, 1, ...sei(39, a53(4, seed))],
    ...[0, 0, 1, 0x02, 0x01, ...picture(500, seed)],
    ...[0, 0, 1, ...sei(40, a53(2, seed + 1))],
  ]);
}

function mpeg2Es(seed: number): Uint8Array {
  return Uint8Array.from([
    ...[0, 0, 1, 0x00, 0x10, 0x20],
    ...[0, 0, 1, 0xb2, ...a53(3, seed)],
    ...[0, 0, 1, 0xb2, 0x44, 0x54, 0x47, 0x31, 0x41, 0xf8], // AFD user data: no captions
    ...[0, 0, 1, 0x01, ...picture(400, seed)],
    ...[0, 0, 1, 0xb2, ...a53(1, seed + 3), 0],
  ]);
}

/** What the scanner hands over for `es` cut into pieces of `size` bytes (each pushed inside a bigger buffer, as a TS packet's payload). */
function scanned(es: Uint8Array, codec: VideoCodec, size: (k: number) => number): CcTriple[][] {
  const out: CcTriple[][] = [];
  const scanner = new CaptionScanner(codec, (triples) => out.push(triples));
  for (let at = 0, k = 0; at < es.length; k++) {
    const piece = es.subarray(at, Math.min(es.length, at + size(k)));
    const packet = new Uint8Array(7 + piece.length + 5);
    packet.fill(1, 0, 7); // bytes around the piece (a TS header, the next packet): 0x01s and zeros that are not the stream's
    packet.set(piece, 7);
    packet.set([0, 0, 1, 0x06, 0x04], 7 + piece.length); // a start code just past the piece's end
    scanner.push(packet, 7, 7 + piece.length);
    at += piece.length;
  }
  scanner.finish();
  return out;
}

const CLIPS: [VideoCodec, (seed: number) => Uint8Array][] = [
  ['h264', h264Es],
  ['hevc', hevcEs],
  ['mpeg2', mpeg2Es],
];

describe('CaptionScanner', () => {
  for (const [codec, es] of CLIPS) {
    it(`${codec}: the triples equal ccTriplesOf on the joined bytes, for every piece size`, () => {
      for (const seed of [1, 2, 3]) {
        const bytes = es(seed);
        const whole = ccTriplesOf(bytes, codec);
        assert.ok(whole.length > 0, 'the test stream carries captions');
        for (let size = 1; size <= 200; size++)
          assert.deepEqual(
            scanned(bytes, codec, () => size),
            [whole],
            `size ${size}`,
          );
      }
    });

    it(`${codec}: every two-piece cut gives the same triples`, () => {
      const bytes = es(7);
      const whole = ccTriplesOf(bytes, codec);
      for (let cut = 0; cut <= bytes.length; cut++) {
        assert.deepEqual(
          scanned(bytes, codec, (k) => (k === 0 ? cut || bytes.length : bytes.length)),
          [whole],
        );
      }
    });
  }

  it('hands nothing over for a PES without captions, and forgets a PES that is reset', () => {
    const out: CcTriple[][] = [];
    const scanner = new CaptionScanner('h264', (triples) => out.push(triples));
    scanner.push(Uint8Array.from([0, 0, 1, 0x65, 1, 2, 3]), 0, 7);
    scanner.finish();
    assert.deepEqual(out, []);
    const bytes = h264Es(1);
    scanner.push(bytes, 0, bytes.length);
    scanner.reset();
    scanner.push(Uint8Array.from([0, 0, 1, 0x65, 1]), 0, 5);
    scanner.finish();
    assert.deepEqual(out, []);
  });
});

describe('PesAssembler with the captions scanner', () => {
  /** A PES header with a PTS (optional header, 5 bytes of header data) before `es`. */
  const pes = (es: Uint8Array): Uint8Array =>
    Uint8Array.from([0, 0, 1, 0xe0, 0, 0, 0x80, 0x80, 5, 0x21, 0, 1, 0, 1, ...es]);

  it('reads the captions of each PES when the next starts, and drops one a lost packet broke', () => {
    const out: CcTriple[][] = [];
    const assembler = new PesAssembler(new CaptionScanner('h264', (triples) => out.push(triples)));
    const first = pes(h264Es(1));
    const second = pes(h264Es(2));
    const pushPes = (bytes: Uint8Array, lose: number | null): void => {
      for (let at = 0, k = 0; at < bytes.length; at += 184, k++) {
        if (k === lose) {
          assembler.reset(); // what the checker does on a continuity error
          continue;
        }
        const payload = bytes.subarray(at, at + 184);
        const packet = new Uint8Array(188 + 188).fill(1); // the reader's buffer holds the next packet too
        packet.set(payload, 4);
        assembler.push(packet, 4, 4 + payload.length, at === 0);
      }
    };
    pushPes(first, null);
    pushPes(second, 2);
    pushPes(first, null);
    assembler.finish();
    assert.deepEqual(out, [ccTriplesOf(h264Es(1), 'h264'), ccTriplesOf(h264Es(1), 'h264')]);
  });
});
