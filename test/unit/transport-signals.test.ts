import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TransportChecker, type TransportEvent } from '../../analyzer/transport/checker.js';
import { CHECK_NAMES } from '../../analyzer/transport/checks.js';
import { parseSpliceInfo } from '../../analyzer/transport/scte35.js';
import { ccTriplesOf } from '../../analyzer/transport/captions.js';
import { captionedClip, pair608, type Triple } from '../media/caption-sei.js';
import { runFfmpeg } from '../media/fixtures.js';
import { constantRateClip, PMT_PID } from '../media/transport-clips.js';
import {
  insertScte35,
  joinPackets,
  pidOf,
  sealSection,
  sectionPackets,
  spliceInsert,
  spliceNull,
  splitPackets,
  timeSignal,
} from '../media/ts-faults.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function run(bytes: Uint8Array): { events: TransportEvent[]; checker: TransportChecker } {
  const events: TransportEvent[] = [];
  const checker = new TransportChecker((e) => events.push(e));
  for (let at = 0; at < bytes.length; at += 1000) checker.push(bytes.subarray(at, at + 1000));
  checker.finish();
  return { events, checker };
}

const noErrors = Object.fromEntries(CHECK_NAMES.map((c) => [c, 0]));
const SCTE35_PID = 500;

describe('SCTE-35 cues in the transport stream', () => {
  it('splice_insert out/in, time_signal with segmentation descriptors and splice_null are read where they were sent', async () => {
    const broken = spliceNull();
    broken[broken.length - 1] = broken[broken.length - 1]! ^ 0xff;
    const { packets, sentAt } = insertScte35(splitPackets(await constantRateClip()), PMT_PID, SCTE35_PID, [
      { at: 1, section: spliceInsert({ eventId: 7, out: true, ptsSeconds: 2.5, durationSeconds: 4 }) },
      {
        at: 2,
        section: timeSignal({ ptsSeconds: 3, segmentationEventId: 9, segmentationTypeId: 0x34, durationSeconds: 3 }),
      },
      { at: 3, section: spliceNull() },
      { at: 5, section: spliceInsert({ eventId: 7, out: false, ptsSeconds: 6.5 }) },
      { at: 5.5, section: timeSignal({ ptsSeconds: 7, segmentationEventId: 9, segmentationTypeId: 0x35 }) },
      { at: 6, section: broken },
    ]);
    const { events, checker } = run(joinPackets(packets));
    const snapshot = checker.snapshot();
    assert.deepEqual(
      snapshot.errors,
      noErrors,
      'cues on a declared PID raise no transport error (nor a PID error for their silence)',
    );
    assert.equal(snapshot.pids.find((p) => p.pid === SCTE35_PID)?.role, 'scte35');
    const cues = events.filter((e): e is Extract<TransportEvent, { kind: 'cue' }> => e.kind === 'cue');
    assert.deepEqual(
      cues.map((c) => [
        c.info.command,
        c.direction,
        c.info.spliceEventId ?? c.info.segmentations[0]?.eventId,
        c.info.breakDuration ?? c.info.segmentations[0]?.duration ?? null,
      ]),
      [
        ['splice_insert', 'out', 7, 4],
        ['time_signal', 'out', 9, 3],
        ['splice_null', 'none', undefined, null],
        ['splice_insert', 'in', 7, null],
        ['time_signal', 'in', 9, null],
      ],
    );
    assert.deepEqual(
      cues.map((c) => (c.info.ptsTime === null ? null : c.info.ptsTime / 90000)),
      [2.5, 3, null, 6.5, 7],
    );
    // Each cue is reported when its last packet arrived (the clip's timing, from its PCRs).
    cues.forEach((c, i) => assert.ok(Math.abs(c.t - sentAt[i]!) < 0.005, `cue ${i} at ${c.t}, sent at ${sentAt[i]}`));
    const invalid = events.filter(
      (e): e is Extract<TransportEvent, { kind: 'cue_invalid' }> => e.kind === 'cue_invalid',
    );
    assert.deepEqual(
      invalid.map((e) => e.reason),
      ['CRC_32 mismatch'],
    );
    assert.deepEqual(snapshot.cues.byCommand, { splice_insert: 2, time_signal: 2, splice_null: 1 });
  });

  it('a section cut short is refused with a message naming the problem', () => {
    const whole = spliceInsert({ eventId: 1, out: true, ptsSeconds: 1, durationSeconds: 30 });
    assert.throws(() => parseSpliceInfo(whole.subarray(0, 10)), /shorter than its section_length/);
    const wrongTable = whole.slice();
    wrongTable[0] = 0xfd;
    assert.throws(() => parseSpliceInfo(wrongTable), /table_id 0xfd is not 0xfc/);
  });
});

const HELLO: [number, number][] = [
  [0x14, 0x20], // resume caption loading, channel 1
  [0x48, 0x45],
  [0x4c, 0x4c],
  [0x4f, 0x20],
  [0x14, 0x2f], // end of caption: display it
];

/** Frames 25-74 (1 s to 3 s) carry captions: HELLO on CC1, then padding, and a DTVCC packet for service 1 in each. */
function captionsOf(frame: number): Triple[] | null {
  if (frame < 25 || frame >= 75) return null;
  const k = frame - 25;
  const [b1, b2] = HELLO[k] ?? [0, 0];
  const field2: Triple[] = k === 10 ? [pair608(1, 0x14, 0x20), pair608(1, 0x41, 0x42)] : [];
  const dtvccHeader = ((k & 3) << 6) | 2; // sequence number, packet_size_code 2 (4 bytes)
  const serviceBlock = (1 << 5) | 2; // service 1, 2 bytes
  return [
    pair608(0, b1, b2),
    ...field2,
    { type: 3, data1: dtvccHeader, data2: serviceBlock },
    { type: 2, data1: 0x48, data2: 0x49 },
  ];
}

describe('caption presence from A/53 SEI in H.264', () => {
  it('CC1 text, a CC3 pair and 708 service 1 are found in the frames that carry them; ffmpeg decodes the same CC1 text', async () => {
    const clip = await captionedClip(captionsOf);
    const { checker } = run(clip);
    const captions = Object.fromEntries(checker.snapshot().captions.map((c) => [c.name, c]));
    assert.deepEqual(Object.keys(captions).sort(), ['CC1', 'CC3', 'service1']);
    assert.equal(captions.CC1!.count, HELLO.length, 'the padding pairs (0x80 0x80) are not captions');
    assert.equal(captions.CC3!.count, 2);
    assert.equal(captions.service1!.count, 50, 'one DTVCC packet in each of 50 frames');
    assert.ok(captions.service1!.lastSeen - captions.service1!.firstSeen > 1, JSON.stringify(captions.service1));
    // ffmpeg's own 608 decoder (an independent reader) finds the same text in the same clip.
    const dir = mkdtempSync(join(tmpdir(), 'streamqc-cc-'));
    try {
      const file = join(dir, 'clip.ts');
      writeFileSync(file, clip);
      const srt = await runFfmpeg(
        ['-v', 'error', '-f', 'lavfi', '-i', `movie=${file}[out0+subcc]`, '-map', '0:1', '-f', 'srt', '-'],
        { what: 'decoding captions' },
      );
      assert.match(srt.stdout.toString(), /HELLO/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a clip without caption SEI shows no caption channel', async () => {
    const { checker } = run(await captionedClip(() => null));
    assert.deepEqual(checker.snapshot().captions, []);
  });
});

describe('captions in HEVC SEI and MPEG-2 user data', () => {
  const ccData = [0x40 | 2, 0xff, 0xfc, 0x94, 0x20, 0xfc, 0xc8, 0xc5, 0xff]; // two field-1 pairs: RCL, 'HE'
  const a53 = [0x47, 0x41, 0x39, 0x34, 0x03, ...ccData];

  it('an HEVC prefix SEI (NAL type 39) with T.35 A/53 cc_data gives its 608 pairs', () => {
    const payload = [0xb5, 0x00, 0x31, ...a53];
    const nal = [0, 0, 0, 1, 39 << 1, 0x01, 0x04, payload.length, ...payload, 0x80];
    const triples = ccTriplesOf(Uint8Array.from([...nal, 0, 0, 1, 0x02, 0x01, 0xaa]), 'hevc');
    assert.deepEqual(
      triples.map((t) => [t.type, t.data1 & 0x7f, t.data2 & 0x7f]),
      [
        [0, 0x14, 0x20],
        [0, 0x48, 0x45],
      ],
    );
  });

  it('MPEG-2 user_data (start code 0xB2) with GA94 cc_data gives its 608 pairs; other user data none', () => {
    const es = Uint8Array.from([0, 0, 1, 0x00, 0x10, 0x20, 0, 0, 1, 0xb2, ...a53, 0, 0, 1, 0x01, 0x22]);
    assert.equal(ccTriplesOf(es, 'mpeg2').length, 2);
    const afd = Uint8Array.from([0, 0, 1, 0xb2, 0x44, 0x54, 0x47, 0x31, 0x41, 0xf8]); // 'DTG1' active format
    assert.equal(ccTriplesOf(afd, 'mpeg2').length, 0);
  });
});

describe('table errors on the PAT and CAT PIDs', () => {
  it('a PMT-typed section on PID 0 is a PAT error; a table other than the CAT on PID 1 is a CAT error', async () => {
    const packets = splitPackets(await constantRateClip());
    const wrongOnPat = sealSection(0x02, 0xb0, [0x00, 0x01, 0xc1, 0x00, 0x00, 0xe1, 0x00, 0xf0, 0x00]);
    const wrongOnCat = sealSection(0x02, 0xb0, [0xff, 0xff, 0xc1, 0x00, 0x00]);
    const nulls = packets.map((p, i) => (pidOf(p) === 0x1fff ? i : -1)).filter((i) => i >= 0);
    const edited = [...packets];
    // The PAT PID's counters renumbered around the added packet, so only its table is wrong.
    const [atPat, atCat] = [nulls[Math.floor(nulls.length / 3)]!, nulls[Math.floor((2 * nulls.length) / 3)]!];
    edited[atPat] = sectionPackets(0, wrongOnPat, 0)[0]!;
    edited[atCat] = sectionPackets(1, wrongOnCat, 0)[0]!;
    const renumbered = renumberPid(edited, 0);
    const { checker } = run(joinPackets(renumbered));
    assert.deepEqual(checker.snapshot().errors, { ...noErrors, pat_error: 1, cat_error: 1 });
  });
});

/** Continuity counters of `pid` counted afresh in order (after packets were added to it). */
function renumberPid(packets: Uint8Array[], pid: number): Uint8Array[] {
  let cc = packets.find((p) => pidOf(p) === pid)![3]! & 0x0f;
  let first = true;
  return packets.map((p) => {
    if (pidOf(p) !== pid) return p;
    const copy = p.slice();
    if (!first) cc = (cc + 1) & 0x0f;
    first = false;
    copy[3] = (copy[3]! & 0xf0) | cc;
    return copy;
  });
}
