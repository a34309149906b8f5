/**
 * The SPS syntax that x264 never writes, read from parameter sets assembled here field by field
 * after ITU-T H.264 7.3.2.1.1: scaling lists in the SPS (x264 puts its matrices in the PPS),
 * picture order count type 1, field-coded pictures without VUI, an extended sample aspect ratio
 * and a timing field that needs emulation prevention. The x264 and x265 clips of
 * probe-segment.test.ts prove the rest against ffprobe.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { h264Picture, hevcPicture } from '../../analyzer/delivery/sequence-parameters.js';

/** Writes a NAL unit bit by bit: fixed-width fields, exp-Golomb codes, then the RBSP trailing bits and emulation prevention. */
class NalWriter {
  private readonly bits: number[] = [];

  u(n: number, value: number): this {
    for (let i = n - 1; i >= 0; i--) this.bits.push(Math.floor(value / 2 ** i) % 2);
    return this;
  }

  ue(value: number): this {
    const code = value + 1;
    const length = Math.floor(Math.log2(code));
    return this.u(length, 0).u(length + 1, code);
  }

  se(value: number): this {
    return this.ue(value > 0 ? 2 * value - 1 : -2 * value);
  }

  /** The NAL unit: header byte, then the escaped RBSP (7.4.1: 00 00 0x with x <= 3 gets a 03 inserted). */
  nal(header: number): Uint8Array {
    const bits = [...this.bits, 1];
    while (bits.length % 8 !== 0) bits.push(0);
    const out = [header];
    let zeros = 0;
    for (let i = 0; i < bits.length; i += 8) {
      const byte = bits.slice(i, i + 8).reduce((v, b) => v * 2 + b, 0);
      if (zeros >= 2 && byte <= 3) {
        out.push(3);
        zeros = 0;
      }
      zeros = byte === 0 ? zeros + 1 : 0;
      out.push(byte);
    }
    return Uint8Array.from(out);
  }
}

describe('H.264 SPS syntax beyond what x264 writes', () => {
  it('High profile with SPS scaling lists, cropped to 1080 lines, VUI at 25 fps behind an emulation prevention byte', () => {
    const w = new NalWriter().u(8, 100).u(8, 0).u(8, 40).ue(0);
    w.ue(1).ue(0).ue(0).u(1, 0); // 4:2:0, 8 bits, no transform bypass
    w.u(1, 1); // seq_scaling_matrix_present_flag
    // List 0 (4x4): deltas until the next scale is 0 (16, 16, 16, 0: the rest is implied).
    w.u(1, 1).se(8).se(0).se(0).se(-16);
    for (let i = 1; i < 6; i++) w.u(1, 0);
    // List 6 (8x8 intra Y): all 64 deltas, alternating.
    w.u(1, 1);
    for (let j = 0; j < 64; j++) w.se(j % 2 === 0 ? 3 : -3);
    w.u(1, 0);
    w.ue(0).ue(0).ue(2).ue(4).u(1, 0); // frame_num, POC type 0 with its lsb size, refs, no gaps
    w.ue(119).ue(67).u(1, 1).u(1, 1); // 120 x 68 macroblocks, frames only, direct 8x8
    w.u(1, 1).ue(0).ue(0).ue(0).ue(4); // crop 8 lines at the bottom (4 chroma lines)
    w.u(1, 1); // VUI
    w.u(1, 1).u(8, 255).u(16, 4).u(16, 3); // Extended_SAR 4:3
    w.u(1, 0); // no overscan info
    w.u(1, 1).u(3, 5).u(1, 0).u(1, 1).u(8, 1).u(8, 1).u(8, 1); // BT.709
    w.u(1, 1).ue(0).ue(0); // chroma sample location
    w.u(1, 1).u(32, 1).u(32, 50).u(1, 1); // num_units_in_tick 1 (00 00 00 01: escaped), time_scale 50
    w.u(4, 0); // no HRD, no pic_struct, no bitstream restriction
    const nal = w.nal(0x67);
    assert.ok(Buffer.from(nal).includes(Buffer.from([0, 0, 3])), 'the unit carries an emulation prevention byte');
    assert.deepEqual(h264Picture(nal), { width: 1920, height: 1080, frameRate: 25 });
  });

  it('POC type 1, field pairs (MBAFF), no VUI: the frame size, and no frame rate (a probe leaves it to ffprobe)', () => {
    const w = new NalWriter().u(8, 77).u(8, 0).u(8, 30).ue(0);
    w.ue(0).ue(1).u(1, 0).se(-2).se(1).ue(2).se(3).se(-3); // POC type 1 and its cycle
    w.ue(4).u(1, 0).ue(44).ue(17).u(1, 0).u(1, 1).u(1, 1); // 45 x 18 map units of field pairs, MBAFF
    w.u(1, 0).u(1, 0); // no crop, no VUI
    assert.deepEqual(h264Picture(w.nal(0x67)), { width: 720, height: 576, frameRate: null });
  });

  it('damaged parameter sets (random bits flipped) read as a picture or as nothing, never throw or hang', () => {
    const w = new NalWriter().u(8, 100).u(8, 0).u(8, 40).ue(0).ue(1).ue(0).ue(0).u(1, 0).u(1, 1);
    for (let i = 0; i < 8; i++) w.u(1, 1).se(5).se(-3).se(-10); // 13, 10, 0: the list ends
    w.ue(0).ue(1).u(1, 0).se(1).se(-1).ue(3).se(2).se(2).se(2).ue(4).u(1, 0).ue(79).ue(44).u(1, 0).u(1, 1).u(1, 1);
    w.u(1, 1).ue(0).ue(0).ue(0).ue(2).u(1, 1).u(4, 0).u(1, 1).u(32, 1001).u(32, 60000).u(1, 1).u(4, 0);
    const sps = w.nal(0x67);
    assert.deepEqual(h264Picture(sps), { width: 1280, height: 1432, frameRate: 60000 / 2002 });
    // The same for an HEVC SPS header byte on the same bits: any answer, or none, without an exception.
    let seed = 17;
    const random = (n: number): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
    for (let round = 0; round < 2000; round++) {
      const damaged = Uint8Array.from(sps);
      for (let k = 1 + random(4); k > 0; k--) damaged[1 + random(damaged.length - 1)]! ^= 1 << random(8);
      for (const read of [h264Picture, () => hevcPicture(Uint8Array.from([0x42, 0x01, ...damaged.subarray(1)]))]) {
        const picture = read(damaged);
        assert.ok(picture === null || (picture.width > 0 && picture.height > 0), JSON.stringify(picture));
      }
    }
  });

  it('a cut-off SPS, or a unit that is not an SPS, reads as nothing', () => {
    const w = new NalWriter().u(8, 66).u(8, 0).u(8, 30).ue(0).ue(0).ue(2).ue(1).u(1, 0).ue(19);
    assert.equal(h264Picture(w.nal(0x67)), null);
    assert.equal(h264Picture(Uint8Array.from([0x68, 0xce, 0x38, 0x80])), null, 'a PPS');
    assert.equal(hevcPicture(Uint8Array.from([0x40, 0x01, 0x0c])), null, 'a VPS');
  });
});
