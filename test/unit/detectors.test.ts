/**
 * Detectors, fed synthetic observation sequences (30 fps video, ~21 ms audio blocks);
 * every assertion is on the events they emit.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { VideoFeatures } from '../../analyzer/features/types.js';
import type { OptionTable } from '../../analyzer/options.js';
import { createAvSyncDetector, avSyncOptions } from '../../analyzer/detectors/av_sync.js';
import { blackOptions, createBlackDetector, darkLumaThreshold } from '../../analyzer/detectors/black.js';
import { blockinessOptions, createBlockinessDetector } from '../../analyzer/detectors/blockiness.js';
import { blurOptions, createBlurDetector } from '../../analyzer/detectors/blur.js';
import { clippingOptions, createClippingDetector } from '../../analyzer/detectors/clipping.js';
import { createDecodeErrorDetector, decodeErrorOptions } from '../../analyzer/detectors/decode_error.js';
import { createFormatChangeDetector, formatChangeOptions } from '../../analyzer/detectors/format_change.js';
import { createFreezeDetector, freezeOptions } from '../../analyzer/detectors/freeze.js';
import { createDetectors, defaultDetectorsConfig, DETECTOR_OPTIONS } from '../../analyzer/detectors/index.js';
import { createLoudnessDetector, loudnessOptions } from '../../analyzer/detectors/loudness.js';
import { createSilenceDetector, silenceOptions } from '../../analyzer/detectors/silence.js';
import { createStallDetector, stallOptions } from '../../analyzer/detectors/stall.js';
import {
  DEFECT_TYPES,
  type AudioObservation,
  type DefectEvent,
  type DefectSink,
  type Detector,
  type StreamFormat,
} from '../../analyzer/detectors/types.js';
import { defaultsOf } from '../../analyzer/options.js';

const FPS = 30;
const FRAME = 1 / FPS;
const BLOCK = 1024 / 48000;

/** A sink that keeps what it is told, in order. */
function recorder(): DefectSink & { startedEvents: DefectEvent[]; endedEvents: DefectEvent[] } {
  const startedEvents: DefectEvent[] = [];
  const endedEvents: DefectEvent[] = [];
  return {
    startedEvents,
    endedEvents,
    started: (e) => startedEvents.push(e),
    ended: (e) => endedEvents.push(e),
  };
}

function near(actual: number | null, expected: number, tolerance = 1e-6): void {
  assert.ok(actual !== null, `expected ${expected}, got null`);
  assert.ok(Math.abs(actual - expected) <= tolerance, `expected ${expected} +/- ${tolerance}, got ${actual}`);
}

/** One ended event of `type` from `start` to `end` (within one frame unless told). */
function assertOneEvent(
  events: DefectEvent[],
  type: string,
  start: number,
  end: number,
  tolerance = 1e-6,
): DefectEvent {
  assert.equal(events.length, 1, `expected one event, got ${JSON.stringify(events)}`);
  const [event] = events;
  assert.ok(event);
  assert.equal(event.type, type);
  near(event.start, start, tolerance);
  near(event.end, end, tolerance);
  return event;
}

/** An ordinary moving, detailed picture. */
const MOVING: VideoFeatures = { meanLuma: 110, darkRatio: 0.05, diff: 6, detail: 20, blockiness: 1.1 };
const BLACK: VideoFeatures = { meanLuma: 16, darkRatio: 1, diff: 0, detail: 0, blockiness: 1 };

/** Feeds 30 fps frames for frame indices [from*FPS, to*FPS), features chosen per frame time. */
function feedVideo(detector: Detector, from: number, to: number, features: (t: number) => VideoFeatures): void {
  for (let i = Math.round(from * FPS); i < Math.round(to * FPS); i++) {
    detector.onVideo?.({ t: i / FPS, duration: FRAME, features: features(i / FPS) });
  }
}

const always = (f: VideoFeatures) => (): VideoFeatures => f;
const picture = (change: Partial<VideoFeatures>): VideoFeatures => ({ ...MOVING, ...change });

/** Feeds ~21 ms audio blocks from `from` to `to`, each shaped by `block(t)`. */
function feedAudio(
  detector: Detector,
  from: number,
  to: number,
  block: (t: number) => Partial<AudioObservation>,
): void {
  for (let i = Math.ceil(from / BLOCK - 1e-9); i * BLOCK < to - 1e-9; i++) {
    const t = i * BLOCK;
    detector.onAudio?.({
      t,
      duration: BLOCK,
      peakDbfs: [-12, -12],
      clippedSamples: 0,
      momentaryLufs: -23,
      shortTermLufs: -23,
      ...block(t),
    });
  }
}

describe('black', () => {
  const create = (sink: DefectSink) => createBlackDetector(defaultsOf(blackOptions), sink);

  test('a 3 s black segment is one black event from 10.0 s to 13.0 s', () => {
    const sink = recorder();
    const black = create(sink);
    feedVideo(black, 0, 20, (t) => (t >= 10 - 1e-9 && t < 13 - 1e-9 ? BLACK : MOVING));
    black.flush(20);
    assertOneEvent(sink.endedEvents, 'black', 10, 13);
    assert.equal(sink.startedEvents.length, 1);
    assert.equal(sink.startedEvents[0]!.end, null);
  });

  test('1.9 s of black is not reported', () => {
    const sink = recorder();
    const black = create(sink);
    feedVideo(black, 0, 20, (t) => (t >= 10 - 1e-9 && t < 11.9 - 1e-9 ? BLACK : MOVING));
    black.flush(20);
    assert.deepEqual(sink.startedEvents, []);
    assert.deepEqual(sink.endedEvents, []);
  });

  test('a picture 97% dark is not black, 98% is', () => {
    const sink = recorder();
    const black = create(sink);
    feedVideo(black, 0, 3, always(picture({ darkRatio: 0.97 })));
    feedVideo(black, 3, 6, always(picture({ darkRatio: 0.98 })));
    black.flush(6);
    assertOneEvent(sink.endedEvents, 'black', 3, 6);
  });

  test('flush at the end closes an active black event at the flush time', () => {
    const sink = recorder();
    const black = create(sink);
    feedVideo(black, 0, 5, always(BLACK));
    assert.equal(sink.startedEvents.length, 1);
    black.flush(5);
    assertOneEvent(sink.endedEvents, 'black', 0, 5);
  });

  test("the dark-pixel level on the full-range analysis plane is blackdetect's nominal Y <= 37", () => {
    // Nominal Y 37 becomes gray 24 and Y 38 gray 26 under ffmpeg's format=gray.
    assert.equal(darkLumaThreshold(0.1), 25);
    assert.equal(darkLumaThreshold(0), 0);
    assert.equal(darkLumaThreshold(1), 255);
  });
});

describe('freeze', () => {
  const create = (sink: DefectSink, change: Partial<typeof freezeDefaults> = {}) =>
    createFreezeDetector({ ...freezeDefaults, ...change }, sink);
  const freezeDefaults = defaultsOf(freezeOptions);
  const FROZEN = picture({ diff: 0.05 });
  /** The picture shown at 10.0 s stays until 13.0 s: frames after 10.0 repeat it. */
  const frozenFrom10To13 = (t: number): VideoFeatures => (t > 10 + 1e-9 && t < 13 - 1e-9 ? FROZEN : MOVING);

  test('a picture held from 10.0 s to 13.0 s is one freeze from 10.0 s to 13.0 s', () => {
    const sink = recorder();
    const freeze = create(sink);
    feedVideo(freeze, 0, 20, frozenFrom10To13);
    freeze.flush(20);
    assertOneEvent(sink.endedEvents, 'freeze', 10, 13);
  });

  test('a picture held for 1.9 s is not reported', () => {
    const sink = recorder();
    const freeze = create(sink);
    feedVideo(freeze, 0, 20, (t) => (t > 10 + 1e-9 && t < 11.9 - 1e-9 ? FROZEN : MOVING));
    freeze.flush(20);
    assert.deepEqual(sink.endedEvents, []);
  });

  test('a freeze with one keyframe spike in the middle stays one event', () => {
    const sink = recorder();
    const freeze = create(sink);
    const keyframe = 11.5;
    feedVideo(freeze, 0, 20, (t) => (Math.abs(t - keyframe) < 1e-9 ? picture({ diff: 2 }) : frozenFrom10To13(t)));
    freeze.flush(20);
    assertOneEvent(sink.endedEvents, 'freeze', 10, 13);
  });

  test("with motionFrames 1 the same keyframe splits the freeze, as ffmpeg's freezedetect does", () => {
    const sink = recorder();
    const freeze = create(sink, { motionFrames: 1 });
    feedVideo(freeze, 0, 20, (t) => (Math.abs(t - 12.5) < 1e-9 ? picture({ diff: 2 }) : frozenFrom10To13(t)));
    freeze.flush(20);
    // 10.0 to 12.5 is long enough; 12.5 to 13.0 is not.
    assertOneEvent(sink.endedEvents, 'freeze', 10, 12.5);
  });

  test('slow motion, every step under the noise floor, is no freeze once it drifts from its reference; the real freeze in it is', () => {
    const sink = recorder();
    const freeze = create(sink);
    // 0.18 a frame (a 1 degree/s rotation at 720p): past the 0.255 floor from its reference
    // every second frame. The picture is held from 10.0 to 13.0 s.
    for (let i = 0; i < 20 * FPS; i++) {
      const t = i / FPS;
      const held = t > 10 + 1e-9 && t < 13 - 1e-9;
      const drift = held ? 0.01 : i % 2 === 1 ? 0.36 : 0.18;
      freeze.onVideo?.({ t, duration: FRAME, features: picture({ diff: held ? 0.01 : 0.18 }), drift });
    }
    freeze.flush(20);
    // The frame before 10.0 s is one slow step from it, under the floor: it may open the run.
    assertOneEvent(sink.endedEvents, 'freeze', 10, 13, FRAME + 1e-6);
  });

  test('a keyframe that visibly re-codes the frozen picture does not split it (its drift is unknown)', () => {
    const sink = recorder();
    const freeze = create(sink);
    for (let i = 0; i < 20 * FPS; i++) {
      const t = i / FPS;
      const keyframe = Math.abs(t - 11.5) < 1e-9;
      const features = keyframe ? picture({ diff: 2 }) : frozenFrom10To13(t);
      const held = t > 10 + 1e-9 && t < 13 - 1e-9;
      freeze.onVideo?.({ t, duration: FRAME, features, keyframe, drift: keyframe ? Number.NaN : held ? 0 : 6 });
    }
    freeze.flush(20);
    assertOneEvent(sink.endedEvents, 'freeze', 10, 13);
  });

  test('two frames of motion end a freeze at the first moving frame', () => {
    const sink = recorder();
    const freeze = create(sink);
    feedVideo(freeze, 0, 13, frozenFrom10To13);
    feedVideo(freeze, 13, 13 + 2 * FRAME, always(MOVING));
    assert.equal(sink.endedEvents.length, 1);
    feedVideo(freeze, 13 + 2 * FRAME, 20, always(FROZEN));
    freeze.flush(14);
    near(sink.endedEvents[0]!.end, 13);
  });

  test('a black segment is not also a freeze', () => {
    const sink = recorder();
    const freeze = create(sink);
    feedVideo(freeze, 0, 20, (t) => (t >= 10 - 1e-9 && t < 15 - 1e-9 ? BLACK : MOVING));
    freeze.flush(20);
    assert.deepEqual(sink.endedEvents, []);
  });

  test('a freeze that cuts to black ends at the first black frame', () => {
    const sink = recorder();
    const freeze = create(sink);
    feedVideo(freeze, 0, 20, (t) => (t >= 13 - 1e-9 && t < 16 - 1e-9 ? BLACK : frozenFrom10To13(t)));
    freeze.flush(20);
    assertOneEvent(sink.endedEvents, 'freeze', 10, 13);
  });

  /** A still picture from 10 s to `until` (13 s) after ten seconds in which `moved(i)` frames changed. */
  function stillAfter(
    moved: (i: number) => boolean,
    change: Partial<typeof freezeDefaults> = {},
    until = 13,
  ): DefectEvent[] {
    const sink = recorder();
    const freeze = create(sink, change);
    for (let i = 0; i < (until + 7) * FPS; i++) {
      const t = i / FPS;
      const held = t > 10 + 1e-9 && t < until - 1e-9;
      const features = held || !moved(i) ? FROZEN : MOVING;
      freeze.onVideo?.({ t, duration: FRAME, features, drift: features === FROZEN ? 0 : 6 });
    }
    freeze.flush(20);
    return sink.endedEvents;
  }

  // A screencast: a few frames of pointer or typing every 2 s, the picture held in between.
  const screencast = (i: number): boolean => i % 60 < 6;

  test('a still picture after content that moved in one frame of ten, holding still in between (a screencast, slides), is still content, no freeze', () => {
    assert.deepEqual(stillAfter(screencast), []);
  });

  test('a creeping inset that moves one step in ten frames but never holds 0.5 s is moving content: its freeze is found', () => {
    assertOneEvent(
      stillAfter((i) => i % 10 === 0),
      'freeze',
      10,
      13,
      FRAME + 1e-6,
    );
  });

  test('a 10 fps camera carried at 30 fps (two frames of three repeat) still moved enough: its freeze is found', () => {
    assertOneEvent(
      stillAfter((i) => i % 3 === 0),
      'freeze',
      10,
      13,
      FRAME + 1e-6,
    );
  });

  // 2D animation: a burst of nine moving drawings, then the drawing held for nine frames (0.27 s).
  const animation = (i: number): boolean => (i + 8) % 18 < 9;

  test('a drawing held 3 s in 2D animation that moves in bursts and holds between them is held content: no freeze', () => {
    assert.deepEqual(stillAfter(animation), []);
  });

  test('the same animation held past heldMinDuration (10 s) is a freeze from its first frame', () => {
    assertOneEvent(stillAfter(animation, {}, 22), 'freeze', 10, 22, FRAME + 1e-6);
  });

  test('with heldMinDuration equal to minDuration, the 3 s hold in animation is a freeze', () => {
    assertOneEvent(stillAfter(animation, { heldMinDuration: 2 }), 'freeze', 10, 13, FRAME + 1e-6);
  });

  test('with minPriorMotion 0 the 3 s hold in animation is judged over minDuration too, as freezedetect does', () => {
    assertOneEvent(stillAfter(animation, { minPriorMotion: 0 }), 'freeze', 10, 13, FRAME + 1e-6);
  });

  test('a freeze does not make the feed held content: a second freeze 5 s after the first is found at 2 s', () => {
    const sink = recorder();
    const freeze = create(sink);
    const held = (t: number): boolean => (t > 10 + 1e-9 && t < 13 - 1e-9) || (t > 18 + 1e-9 && t < 21 - 1e-9);
    for (let i = 0; i < 25 * FPS; i++) {
      const t = i / FPS;
      freeze.onVideo?.({ t, duration: FRAME, features: held(t) ? FROZEN : MOVING, drift: held(t) ? 0 : 6 });
    }
    freeze.flush(25);
    assert.equal(sink.endedEvents.length, 2, JSON.stringify(sink.endedEvents));
    near(sink.endedEvents[1]!.start, 18, FRAME + 1e-6);
    near(sink.endedEvents[1]!.end ?? 0, 21, FRAME + 1e-6);
  });

  test('with minPriorMotion 0 every still picture is judged, as freezedetect does', () => {
    const events = stillAfter(screencast, { minPriorMotion: 0 });
    assert.ok(
      // It runs on past 13 s: the screencast holds its next picture until 14 s.
      events.some((e) => Math.abs(e.start - 10) <= FRAME + 1e-6 && Math.abs((e.end ?? 0) - 14) < 1e-6),
      JSON.stringify(events),
    );
  });

  test('the first frame of a segment (no difference yet) neither starts nor ends a freeze', () => {
    const sink = recorder();
    const freeze = create(sink);
    // A segment that opens on a frozen picture: the first frame has no difference to measure.
    feedVideo(freeze, 0, 3, (t) => (t === 0 ? picture({ diff: Number.NaN }) : FROZEN));
    freeze.flush(3);
    assertOneEvent(sink.endedEvents, 'freeze', 0, 3);
  });
});

describe('silence', () => {
  const create = (sink: DefectSink) => createSilenceDetector(defaultsOf(silenceOptions), sink);

  test('3 s below -60 dBFS on both channels is one silence event', () => {
    const sink = recorder();
    const silence = create(sink);
    feedAudio(silence, 0, 10, (t) => (t >= 4 && t < 7 ? { peakDbfs: [-75, -Infinity] } : {}));
    silence.flush(10);
    assertOneEvent(sink.endedEvents, 'silence', 4, 7, BLOCK);
  });

  test('silence on one channel only is not silence', () => {
    const sink = recorder();
    const silence = create(sink);
    feedAudio(silence, 0, 10, () => ({ peakDbfs: [-Infinity, -20] }));
    silence.flush(10);
    assert.deepEqual(sink.endedEvents, []);
  });

  test('1.5 s of silence is not reported', () => {
    const sink = recorder();
    const silence = create(sink);
    feedAudio(silence, 0, 10, (t) => (t >= 4 && t < 5.5 ? { peakDbfs: [-90, -90] } : {}));
    silence.flush(10);
    assert.deepEqual(sink.endedEvents, []);
  });
});

describe('loudness', () => {
  const create = (sink: DefectSink) => createLoudnessDetector(defaultsOf(loudnessOptions), sink);

  test('-40 LUFS for 12 s is a loudness defect, 8 s is not', () => {
    const long = recorder();
    const loudnessLong = create(long);
    feedAudio(loudnessLong, 0, 30, (t) => (t >= 5 && t < 17 ? { shortTermLufs: -40 } : {}));
    loudnessLong.flush(30);
    const event = assertOneEvent(long.endedEvents, 'loudness', 5, 17, BLOCK);
    assert.equal(event.detail?.shortTermLufs, -40);
    assert.equal(event.detail.direction, 'too quiet');

    const short = recorder();
    const loudnessShort = create(short);
    feedAudio(loudnessShort, 0, 30, (t) => (t >= 5 && t < 13 ? { shortTermLufs: -40 } : {}));
    loudnessShort.flush(30);
    assert.deepEqual(short.endedEvents, []);
  });

  test('-15 LUFS for 12 s is too loud; -19 LUFS is within tolerance', () => {
    const sink = recorder();
    const loudness = create(sink);
    feedAudio(loudness, 0, 20, () => ({ shortTermLufs: -19 }));
    feedAudio(loudness, 20, 32, () => ({ shortTermLufs: -15 }));
    feedAudio(loudness, 32, 40, () => ({}));
    loudness.flush(40);
    const event = assertOneEvent(sink.endedEvents, 'loudness', 20, 32, BLOCK);
    assert.equal(event.detail?.direction, 'too loud');
  });

  test('a long silence is not a loudness defect, even with quiet fade windows around it', () => {
    const sink = recorder();
    const loudness = create(sink);
    // Short-term loudness sinks while silence fills the 3 s window, is gated, then recovers.
    feedAudio(loudness, 0, 30, (t) => {
      if (t >= 10 && t < 12) return { shortTermLufs: -35 };
      if (t >= 12 && t < 20) return { shortTermLufs: -Infinity, peakDbfs: [-Infinity, -Infinity] };
      if (t >= 20 && t < 22) return { shortTermLufs: -35 };
      return {};
    });
    loudness.flush(30);
    assert.deepEqual(sink.endedEvents, []);
  });

  test('an active loudness event ends where the audio falls under the absolute gate', () => {
    const sink = recorder();
    const loudness = create(sink);
    feedAudio(loudness, 0, 15, () => ({ shortTermLufs: -45 }));
    feedAudio(loudness, 15, 20, () => ({ shortTermLufs: -80 }));
    loudness.flush(20);
    assertOneEvent(sink.endedEvents, 'loudness', 0, 15, BLOCK);
  });
});

describe('clipping', () => {
  const create = (sink: DefectSink) => createClippingDetector(defaultsOf(clippingOptions), sink);
  const clippedAt = (times: number[]) => (t: number) =>
    times.some((c) => c >= t - 1e-9 && c < t + BLOCK - 1e-9) ? { clippedSamples: 1 } : {};

  test('3 clipped samples within 100 ms trip clipping, 3 spread over a second do not', () => {
    const burst = recorder();
    const clippingBurst = create(burst);
    feedAudio(clippingBurst, 0, 5, clippedAt([2.0, 2.04, 2.08]));
    clippingBurst.flush(5);
    // From the first clipped block to the end of the last one.
    const first = Math.floor(2.0 / BLOCK) * BLOCK;
    const last = Math.floor(2.08 / BLOCK) * BLOCK + BLOCK;
    assertOneEvent(burst.endedEvents, 'clipping', first, last);

    const spread = recorder();
    const clippingSpread = create(spread);
    feedAudio(clippingSpread, 0, 5, clippedAt([2.0, 2.5, 3.0]));
    clippingSpread.flush(5);
    assert.deepEqual(spread.endedEvents, []);
  });

  test('3 clipped samples in one block trip clipping', () => {
    const sink = recorder();
    const clipping = create(sink);
    feedAudio(clipping, 0, 5, (t) => (Math.abs(t - 100 * BLOCK) < 1e-9 ? { clippedSamples: 3 } : {}));
    clipping.flush(5);
    assertOneEvent(sink.endedEvents, 'clipping', 100 * BLOCK, 101 * BLOCK);
  });

  test('clipping that keeps recurring within the window is one event', () => {
    const sink = recorder();
    const clipping = create(sink);
    // Two clipped samples in every block from 1 s to 3 s.
    feedAudio(clipping, 0, 5, (t) => (t >= 1 && t < 3 ? { clippedSamples: 2 } : {}));
    clipping.flush(5);
    assertOneEvent(sink.endedEvents, 'clipping', 1, 3, BLOCK);
  });
});

describe('blockiness', () => {
  const defaults = defaultsOf(blockinessOptions);

  test("blockiness jump over the stream's baseline for 1 s is one event; a stream with a constantly high blockiness is not blocky", () => {
    const sink = recorder();
    const blockiness = createBlockinessDetector(defaults, sink);
    feedVideo(blockiness, 0, 30, (t) => picture({ blockiness: t >= 20 - 1e-9 && t < 21 - 1e-9 ? 1.8 : 1.1 }));
    blockiness.flush(30);
    const event = assertOneEvent(sink.endedEvents, 'blockiness', 20, 21);
    near(Number(event.detail?.baseline), 1.1, 0.01);

    const high = recorder();
    const highDetector = createBlockinessDetector(defaults, high);
    feedVideo(highDetector, 0, 30, always(picture({ blockiness: 1.8 })));
    highDetector.flush(30);
    assert.deepEqual(high.endedEvents, []);
  });

  test('a jump of 0.3 s is shorter than minDuration and not reported', () => {
    const sink = recorder();
    const blockiness = createBlockinessDetector(defaults, sink);
    feedVideo(blockiness, 0, 30, (t) => picture({ blockiness: t >= 20 - 1e-9 && t < 20.3 - 1e-9 ? 1.8 : 1.1 }));
    blockiness.flush(30);
    assert.deepEqual(sink.endedEvents, []);
  });

  test('a small rise on a flat picture is not blocky: both the ratio and the margin must hold', () => {
    const sink = recorder();
    // Baseline 0.3 (a grid smoother than the interiors): 0.37 is 23% above it but only 0.07 in level.
    const blockiness = createBlockinessDetector({ ...defaults, ratio: 1.2 }, sink);
    feedVideo(blockiness, 0, 30, (t) => picture({ blockiness: t >= 20 - 1e-9 && t < 22 - 1e-9 ? 0.37 : 0.3 }));
    blockiness.flush(30);
    assert.deepEqual(sink.endedEvents, []);
  });

  // Against MOVING (blockiness 1.1, detail 20): starved frames lift the grid 15% (under the
  // ratio of 1.2) while detail falls to 8 (under 0.6 of the baseline); grid frames lift it 25%.
  const starved = picture({ blockiness: 1.265, detail: 8 });
  const grid = picture({ blockiness: 1.375, detail: 8 });
  const within = (t: number, from: number, to: number): boolean => t >= from - 1e-9 && t < to - 1e-9;

  test('1.3 s that look starved (detail halved, grid +15%, one frame far above) are not reported: a flat screen scrolling in looks like that', () => {
    const sink = recorder();
    const blockiness = createBlockinessDetector(defaults, sink);
    feedVideo(blockiness, 0, 30, (t) => (within(t, 20.6, 20.64) ? grid : within(t, 20, 21.3) ? starved : MOVING));
    blockiness.flush(30);
    assert.deepEqual(sink.endedEvents, []);
  });

  test('bitrate starvation that lasts starvedMinDuration (2 s) is one event from its first starved frame', () => {
    const sink = recorder();
    const blockiness = createBlockinessDetector(defaults, sink);
    feedVideo(blockiness, 0, 30, (t) => (within(t, 20, 24) ? starved : MOVING));
    blockiness.flush(30);
    assertOneEvent(sink.endedEvents, 'blockiness', 20, 24);
    assert.equal(sink.startedEvents.length, 1);
  });

  test('a starved stretch with the grid far above its baseline for half of minDuration is reported after minDuration', () => {
    const sink = recorder();
    const blockiness = createBlockinessDetector(defaults, sink);
    feedVideo(blockiness, 0, 30, (t) => (within(t, 20.2, 20.5) ? grid : within(t, 20, 21) ? starved : MOVING));
    blockiness.flush(30);
    assertOneEvent(sink.endedEvents, 'blockiness', 20, 21);
  });

  test('a jump during the warm-up is not judged', () => {
    const sink = recorder();
    const blockiness = createBlockinessDetector(defaults, sink);
    feedVideo(blockiness, 0, 10, (t) => picture({ blockiness: t >= 0.4 - 1e-9 && t < 0.9 - 1e-9 ? 1.8 : 1.1 }));
    blockiness.flush(10);
    assert.deepEqual(sink.endedEvents, []);
  });

  test('black and near-uniform frames are neither judged nor learned', () => {
    const sink = recorder();
    const blockiness = createBlockinessDetector(defaults, sink);
    feedVideo(blockiness, 0, 10, always(picture({ blockiness: 1.1 })));
    feedVideo(blockiness, 10, 40, always({ ...BLACK, blockiness: 2.5 }));
    feedVideo(blockiness, 40, 45, always(picture({ detail: 0.2, blockiness: 2.5 })));
    // The baseline is still 1.1 after 35 s without judgeable frames.
    feedVideo(blockiness, 45, 46, always(picture({ blockiness: 1.8 })));
    feedVideo(blockiness, 46, 50, always(picture({ blockiness: 1.1 })));
    blockiness.flush(50);
    assertOneEvent(sink.endedEvents, 'blockiness', 45, 46);
  });

  /** One frame of a programme whose shots change at `cutAt` (marked as a cut when `marked`). */
  function feedScenes(
    detector: Detector,
    to: number,
    cutAt: number,
    marked: boolean,
    features: (t: number) => VideoFeatures,
  ): void {
    for (let i = 0; i < Math.round(to * FPS); i++) {
      const t = i / FPS;
      const cut = marked && Math.abs(t - cutAt) < 1e-9;
      detector.onVideo?.({ t, duration: FRAME, features: features(t), cut });
    }
  }

  // A CG film (blockiness 1.15) cut at 10 s to a dim room coded as MPEG-2 (1.4): the room's
  // coding looks like that for its whole length, measured on the real dark programme.
  const filmThenRoom = (t: number): VideoFeatures =>
    t < 10 - 1e-9 ? picture({ blockiness: 1.15, meanLuma: 70 }) : picture({ blockiness: 1.4, meanLuma: 74, detail: 3 });

  test('a cut to a scene that codes blockier starts the baseline over: the new scene is no blockiness', () => {
    const sink = recorder();
    const blockiness = createBlockinessDetector(defaults, sink);
    feedScenes(blockiness, 30, 10, true, filmThenRoom);
    blockiness.flush(30);
    assert.deepEqual(sink.endedEvents, []);
  });

  test('without the cut (and at the same brightness) the same rise is blockiness', () => {
    const sink = recorder();
    const blockiness = createBlockinessDetector(defaults, sink);
    feedScenes(blockiness, 30, 10, false, filmThenRoom);
    blockiness.flush(30);
    assert.equal(sink.endedEvents.length, 1, JSON.stringify(sink.endedEvents));
    near(sink.endedEvents[0]!.start, 10);
  });

  test('a fade to a brighter scene (mean luma +40, no cut) starts the baseline over too', () => {
    const sink = recorder();
    const blockiness = createBlockinessDetector(defaults, sink);
    // A dark shot (luma 32) fades over 1 s into the lit room (luma 74) that codes blockier.
    feedScenes(blockiness, 30, -1, false, (t) => {
      const mix = Math.min(1, Math.max(0, t - 10));
      return picture({ blockiness: 1.15 + 0.25 * mix, meanLuma: 32 + 42 * mix, detail: 4 });
    });
    blockiness.flush(30);
    assert.deepEqual(sink.endedEvents, []);
  });

  test('damage that makes the cut meter fire is not learned as the new scene: blockiness goes on across the cut', () => {
    const sink = recorder();
    const blockiness = createBlockinessDetector(defaults, sink);
    // Blocky from 10 s to 14 s; a cut is marked at 12 s, inside the damage.
    feedScenes(blockiness, 30, 12, true, (t) => picture({ blockiness: t >= 10 - 1e-9 && t < 14 - 1e-9 ? 1.8 : 1.1 }));
    blockiness.flush(30);
    assertOneEvent(sink.endedEvents, 'blockiness', 10, 14);
  });

  test('a picture with less detail than twice the coding noise (a room fading in from black) is not judged', () => {
    const sink = recorder();
    const blockiness = createBlockinessDetector(defaults, sink);
    feedVideo(blockiness, 0, 30, (t) =>
      t >= 10 - 1e-9 && t < 13 - 1e-9 ? picture({ blockiness: 1.65, detail: 1.5 }) : picture({ blockiness: 1.3 }),
    );
    blockiness.flush(30);
    assert.deepEqual(sink.endedEvents, []);
  });

  test('a resolution change relearns the baseline instead of reporting blockiness', () => {
    const sink = recorder();
    const blockiness = createBlockinessDetector(defaults, sink);
    blockiness.onFormat?.(0, format({ width: 1920, height: 1080 }));
    feedVideo(blockiness, 0, 10, always(picture({ blockiness: 1.1 })));
    blockiness.onFormat?.(10, format({ width: 640, height: 360 }));
    feedVideo(blockiness, 10, 20, always(picture({ blockiness: 1.6 })));
    blockiness.flush(20);
    assert.deepEqual(sink.endedEvents, []);
  });
});

describe('blur', () => {
  const defaults = defaultsOf(blurOptions);

  test('blur after sharp content is one blur event while detail stays low', () => {
    const sink = recorder();
    const blur = createBlurDetector(defaults, sink);
    feedVideo(blur, 0, 30, (t) => picture({ detail: t >= 10 - 1e-9 && t < 13 - 1e-9 ? 4 : 20 }));
    blur.flush(30);
    const event = assertOneEvent(sink.endedEvents, 'blur', 10, 13);
    near(Number(event.detail?.baseline), 20, 0.5);
  });

  test('the blur score is the share of detail above the noise floor that is missing, 0 on sharp content', () => {
    const sink = recorder();
    const blur = createBlurDetector(defaults, sink);
    feedVideo(blur, 0, 10, always(picture({ detail: 20 })));
    near(blur.blurScore(), 0);
    feedVideo(blur, 10, 11, always(picture({ detail: 5 })));
    // 1 - (5 - 1) / (20 - 1), with the default noiseDetail of 1.
    near(blur.blurScore(), 1 - 4 / 19, 0.01);
  });

  /** Feeds frames like feedVideo, marking the frame at `cutAt` as the first of a new shot. */
  function feedShots(blur: Detector, to: number, cutAt: number, detail: (t: number) => number): void {
    for (let i = 0; i < Math.round(to * FPS); i++) {
      const t = i / FPS;
      blur.onVideo?.({ t, duration: FRAME, features: picture({ detail: detail(t) }), cut: Math.abs(t - cutAt) < 1e-9 });
    }
  }

  test('a cut to softer content starts the baseline over: the soft shot is no blur', () => {
    const sink = recorder();
    const blur = createBlurDetector(defaults, sink);
    // A detailed city shot (detail 60), then a dim room (4) from the cut at 8 s.
    feedShots(blur, 30, 8, (t) => (t < 8 - 1e-9 ? 60 : 4));
    blur.flush(30);
    assert.deepEqual(sink.endedEvents, []);
  });

  /** Blur events when sharp pictures (detail 20, gradient 10) give way to `low` from 10 s to 13 s. */
  function blurOver(low: VideoFeatures): DefectEvent[] {
    const sink = recorder();
    const blur = createBlurDetector(defaults, sink);
    feedVideo(blur, 0, 30, (t) => (t >= 10 - 1e-9 && t < 13 - 1e-9 ? low : picture({ detail: 20, gradient: 10 })));
    blur.flush(30);
    return sink.endedEvents;
  }

  test('fewer edges that stay as sharp (a flat field of 2D animation) is no blur, however low the detail', () => {
    // Detail falls from 20 to 4 while detail / gradient stays 2: the edges left are as sharp.
    assert.deepEqual(blurOver(picture({ detail: 4, gradient: 2 })), []);
  });

  test('the same drop of detail with edges softened (detail / gradient 2 to 1.2) is blur', () => {
    assertOneEvent(blurOver(picture({ detail: 4, gradient: 4 / 1.2 })), 'blur', 10, 13);
  });

  test("the sharpness baseline is the stream's: a blur that sets in during the detail baseline's warm-up after a cut is found", () => {
    const sink = recorder();
    const blur = createBlurDetector(defaults, sink);
    // Sharpness 2 throughout, cut at 10 s, blurred from 10.6 s (detail 4, sharpness 1.7 = 0.85 of 2).
    // A sharpness baseline started over at the cut would seed on 0.4 s of blur (1.88 * 0.9 < 1.7).
    for (let i = 0; i < 20 * FPS; i++) {
      const t = i / FPS;
      const blurred = t >= 10.6 - 1e-9 && t < 14 - 1e-9;
      const features = blurred ? picture({ detail: 4, gradient: 4 / 1.7 }) : picture({ detail: 20, gradient: 10 });
      blur.onVideo?.({ t, duration: FRAME, features, cut: Math.abs(t - 10) < 1e-9 });
    }
    blur.flush(20);
    const [event] = sink.endedEvents;
    assert.equal(sink.endedEvents.length, 1, JSON.stringify(sink.endedEvents));
    near(event?.end ?? 0, 14, FRAME + 1e-6);
  });

  test('without the cut the same drop of detail is blur', () => {
    const sink = recorder();
    const blur = createBlurDetector(defaults, sink);
    feedShots(blur, 30, -1, (t) => (t < 8 - 1e-9 ? 60 : 4));
    blur.flush(30);
    assertOneEvent(sink.endedEvents, 'blur', 8, 30);
  });

  test('a fade to a softer, brighter shot (mean luma +28, no cut) starts the baseline over: no blur', () => {
    const sink = recorder();
    const blur = createBlurDetector(defaults, sink);
    // A night city (detail 48, luma 81) fades over 1 s at 8 s into a handheld bird (detail 8, luma 109),
    // as in the real film-and-camera programme.
    for (let i = 0; i < 30 * FPS; i++) {
      const t = i / FPS;
      const mix = Math.min(1, Math.max(0, t - 8));
      const features = picture({ detail: 48 - 40 * mix, meanLuma: 81 + 28 * mix });
      blur.onVideo?.({ t, duration: FRAME, features });
    }
    blur.flush(30);
    assert.deepEqual(sink.endedEvents, []);
  });

  test('a blur keeps the mean luma: it is found as before, and a luma change while blurred keeps the baseline', () => {
    const sink = recorder();
    const blur = createBlurDetector(defaults, sink);
    // Blurred from 10 s to 15 s; the light goes up by 30 levels at 12 s, inside the blur.
    feedVideo(blur, 0, 30, (t) =>
      picture({ detail: t >= 10 - 1e-9 && t < 15 - 1e-9 ? 4 : 20, meanLuma: t >= 12 - 1e-9 ? 140 : 110 }),
    );
    blur.flush(30);
    assertOneEvent(sink.endedEvents, 'blur', 10, 15);
  });

  test('a cut while the picture is blurred keeps the baseline: blur goes on across the cut', () => {
    const sink = recorder();
    const blur = createBlurDetector(defaults, sink);
    // Sharp (20) to 10 s, out of focus (4) after, with a cut at 12 s inside the blur.
    feedShots(blur, 30, 12, (t) => (t < 10 - 1e-9 ? 20 : 4));
    blur.flush(30);
    assertOneEvent(sink.endedEvents, 'blur', 10, 30);
  });

  test('soft content: the ratio judges the detail above the coding noise floor', () => {
    const sink = recorder();
    const blur = createBlurDetector(defaults, sink);
    // Measured on a dim room: 2.9 sharp, 1.2 blurred (a plain ratio of 0.41, over 0.4).
    feedVideo(blur, 0, 30, (t) => picture({ detail: t >= 10 - 1e-9 && t < 13 - 1e-9 ? 1.2 : 2.9 }));
    blur.flush(30);
    assertOneEvent(sink.endedEvents, 'blur', 10, 13);
  });

  test('1.5 s of blur is not reported', () => {
    const sink = recorder();
    const blur = createBlurDetector(defaults, sink);
    feedVideo(blur, 0, 30, (t) => picture({ detail: t >= 10 - 1e-9 && t < 11.5 - 1e-9 ? 4 : 20 }));
    blur.flush(30);
    assert.deepEqual(sink.endedEvents, []);
  });

  test('flat content never triggers blur', () => {
    const sink = recorder();
    const blur = createBlurDetector(defaults, sink);
    feedVideo(blur, 0, 30, (t) => picture({ detail: t >= 10 - 1e-9 && t < 20 - 1e-9 ? 0.1 : 1.5 }));
    blur.flush(30);
    assert.deepEqual(sink.endedEvents, []);
  });

  test("a lasting drop of detail is relearned as the stream's new normal, ending its blur event", () => {
    const sink = recorder();
    const blur = createBlurDetector(defaults, sink);
    feedVideo(blur, 0, 10, always(picture({ detail: 20 })));
    feedVideo(blur, 10, 400, always(picture({ detail: 6 })));
    blur.flush(400);
    assert.equal(sink.endedEvents.length, 1);
    near(sink.endedEvents[0]!.start, 10);
    const end = sink.endedEvents[0]!.end ?? Number.NaN;
    assert.ok(end > 60 && end < 400, `ended at ${end}`);
  });

  test('with relearnSeconds 0 a blurred picture never becomes the baseline', () => {
    const sink = recorder();
    const blur = createBlurDetector({ ...defaults, relearnSeconds: 0 }, sink);
    feedVideo(blur, 0, 10, always(picture({ detail: 20 })));
    feedVideo(blur, 10, 400, always(picture({ detail: 6 })));
    blur.flush(400);
    assertOneEvent(sink.endedEvents, 'blur', 10, 400);
  });

  test('a black picture is not blur', () => {
    const sink = recorder();
    const blur = createBlurDetector(defaults, sink);
    feedVideo(blur, 0, 30, (t) => (t >= 10 - 1e-9 && t < 20 - 1e-9 ? BLACK : picture({ detail: 20 })));
    blur.flush(30);
    assert.deepEqual(sink.endedEvents, []);
  });
});

describe('stall', () => {
  const create = (sink: DefectSink) => createStallDetector(defaultsOf(stallOptions), sink);

  test('stall start is when media stopped, its end when media returns', () => {
    const sink = recorder();
    const stall = create(sink);
    // Media stopped at 20.0 s; the analyzer ticks every 0.5 s.
    for (let t = 20.5; t < 27; t += 0.5) stall.onTick?.(t, t - 20);
    assert.equal(sink.startedEvents.length, 1);
    near(sink.startedEvents[0]!.start, 20);
    stall.onMedia?.(27);
    assertOneEvent(sink.endedEvents, 'stall', 20, 27);
  });

  test('a 2.5 s gap is not a stall', () => {
    const sink = recorder();
    const stall = create(sink);
    for (let t = 20.5; t <= 22.5; t += 0.5) stall.onTick?.(t, t - 20);
    stall.onMedia?.(22.5);
    stall.flush(30);
    assert.deepEqual(sink.startedEvents, []);
  });

  test('flush at the end closes an active stall', () => {
    const sink = recorder();
    const stall = create(sink);
    stall.onTick?.(25, 5);
    stall.flush(26);
    assertOneEvent(sink.endedEvents, 'stall', 20, 26);
  });
});

describe('decode_error', () => {
  const create = (sink: DefectSink) => createDecodeErrorDetector(defaultsOf(decodeErrorOptions), sink);

  /** 30 fps frames from `from` to `to`, with decoder errors reported at the given times. */
  function run(detector: Detector, from: number, to: number, errors: number[]): void {
    const pending = [...errors];
    for (let i = Math.round(from * FPS); i < Math.round(to * FPS); i++) {
      const t = i / FPS;
      while (pending.length > 0 && pending[0]! <= t + 1e-9) detector.onDecodeError?.(pending.shift() ?? t, 'corrupt');
      detector.onVideo?.({ t, duration: FRAME, features: MOVING });
    }
  }

  test('decode errors 0.3 s apart are one event, ending at the first frame after the last error', () => {
    const sink = recorder();
    const decode = create(sink);
    run(decode, 0, 10, [5.0, 5.3, 5.6]);
    decode.flush(10);
    const event = assertOneEvent(sink.endedEvents, 'decode_error', 5.0, 5.6 + FRAME, 1e-6);
    assert.equal(event.detail?.errors, 3);
    assert.equal(sink.startedEvents.length, 1);
    near(sink.startedEvents[0]!.start, 5.0);
  });

  test('decode errors 2 s apart are two events', () => {
    const sink = recorder();
    const decode = create(sink);
    run(decode, 0, 10, [3.0, 5.0]);
    decode.flush(10);
    assert.equal(sink.endedEvents.length, 2);
    near(sink.endedEvents[0]!.start, 3);
    near(sink.endedEvents[1]!.start, 5);
  });

  test('an error followed by no media ends one hold after it', () => {
    const sink = recorder();
    const decode = create(sink);
    decode.onDecodeError?.(4, 'corrupt');
    decode.onTick?.(5.5, 1.5);
    assertOneEvent(sink.endedEvents, 'decode_error', 4, 5);
  });

  test('flush during the hold closes the event at the flush time when no frame followed', () => {
    const sink = recorder();
    const decode = create(sink);
    decode.onDecodeError?.(4, 'corrupt');
    decode.flush(4.2);
    assertOneEvent(sink.endedEvents, 'decode_error', 4, 4.2);
  });
});

describe('av_sync', () => {
  const create = (sink: DefectSink) => createAvSyncDetector(defaultsOf(avSyncOptions), sink);
  const feedOffsets = (detector: Detector, from: number, to: number, offset: (t: number) => number): void => {
    for (let i = Math.round(from * FPS); i < Math.round(to * FPS); i++) detector.onAvOffset?.(i / FPS, offset(i / FPS));
  };

  test('av offset of 0.3 s for 3 s is one av_sync event', () => {
    const sink = recorder();
    const avSync = create(sink);
    feedOffsets(avSync, 0, 20, (t) => (t >= 10 - 1e-9 && t < 13 - 1e-9 ? 0.3 : 0.02));
    avSync.flush(20);
    const event = assertOneEvent(sink.endedEvents, 'av_sync', 10, 13);
    assert.equal(event.detail?.offsetSeconds, 0.3);
  });

  test('audio 0.3 s early counts too; 1.5 s of it does not', () => {
    const sink = recorder();
    const avSync = create(sink);
    feedOffsets(avSync, 0, 20, (t) => (t >= 5 - 1e-9 && t < 8 - 1e-9 ? -0.3 : 0));
    feedOffsets(avSync, 20, 30, (t) => (t >= 25 - 1e-9 && t < 26.5 - 1e-9 ? -0.3 : 0));
    avSync.flush(30);
    assertOneEvent(sink.endedEvents, 'av_sync', 5, 8);
  });
});

function format(change: Partial<StreamFormat> = {}): StreamFormat {
  return {
    videoCodec: 'h264',
    width: 1280,
    height: 720,
    frameRate: 25,
    audioCodec: 'aac',
    sampleRate: 48000,
    channels: 2,
    channelLayout: 'stereo',
    ...change,
  };
}

describe('format_change', () => {
  const create = (sink: DefectSink) => createFormatChangeDetector(defaultsOf(formatChangeOptions), sink);

  test('a resolution change is one instant format_change event naming both sizes', () => {
    const sink = recorder();
    const formatChange = create(sink);
    formatChange.onFormat?.(0, format());
    formatChange.onFormat?.(42.5, format({ width: 640, height: 360 }));
    const event = assertOneEvent(sink.endedEvents, 'format_change', 42.5, 42.5);
    assert.deepEqual(event.detail, { resolution: '1280x720 -> 640x360' });
    assert.equal(sink.startedEvents.length, 1);
  });

  test('the first format and a repeated format are not changes', () => {
    const sink = recorder();
    const formatChange = create(sink);
    formatChange.onFormat?.(0, format());
    formatChange.onFormat?.(30, format({ frameRate: 25.00001 }));
    formatChange.onFormat?.(60, format());
    assert.deepEqual(sink.endedEvents, []);
  });

  test('several changes at once are one event naming each', () => {
    const sink = recorder();
    const formatChange = create(sink);
    formatChange.onFormat?.(0, format());
    formatChange.onFormat?.(10, format({ videoCodec: 'hevc', channels: 6, channelLayout: '5.1', frameRate: 50 }));
    const event = assertOneEvent(sink.endedEvents, 'format_change', 10, 10);
    assert.deepEqual(event.detail, {
      frameRate: '25 -> 50',
      videoCodec: 'h264 -> hevc',
      channels: '2 ch (stereo) -> 6 ch (5.1)',
    });
  });

  test('a layout name appearing for the same channel count is not a change; a different layout is', () => {
    const sink = recorder();
    const formatChange = create(sink);
    formatChange.onFormat?.(0, format({ channels: 1, channelLayout: null }));
    formatChange.onFormat?.(1, format({ channels: 1, channelLayout: 'mono' }));
    formatChange.onFormat?.(2, format({ channels: 1, channelLayout: null }));
    assert.equal(sink.endedEvents.length, 0, JSON.stringify(sink.endedEvents));
    formatChange.onFormat?.(3, format({ channels: 2, channelLayout: 'stereo' }));
    formatChange.onFormat?.(4, format({ channels: 2, channelLayout: 'downmix' }));
    assert.deepEqual(
      sink.endedEvents.map((e) => e.detail),
      [{ channels: '1 ch -> 2 ch (stereo)' }, { channels: '2 ch (stereo) -> 2 ch (downmix)' }],
    );
  });

  test('audio disappearing is a change', () => {
    const sink = recorder();
    const formatChange = create(sink);
    formatChange.onFormat?.(0, format());
    formatChange.onFormat?.(5, format({ audioCodec: null, sampleRate: null, channels: null, channelLayout: null }));
    const event = assertOneEvent(sink.endedEvents, 'format_change', 5, 5);
    assert.equal(event.detail?.audioCodec, 'aac -> none');
  });
});

describe('detector set and option tables', () => {
  test('every option has a default within its range and a non-empty doc', () => {
    for (const [type, table] of Object.entries(DETECTOR_OPTIONS) as [string, OptionTable][]) {
      for (const [name, spec] of Object.entries(table)) {
        const where = `${type}.${name}`;
        assert.ok(spec.doc.trim().length > 0, `${where} has no doc`);
        if (spec.kind === 'number') {
          assert.ok(spec.min <= spec.default && spec.default <= spec.max, `${where} default outside its range`);
          if (spec.integer) assert.ok(Number.isInteger(spec.default), `${where} default is not an integer`);
        }
      }
    }
  });

  test('every defect type has an option table that can disable it', () => {
    for (const type of DEFECT_TYPES) {
      assert.equal(DETECTOR_OPTIONS[type].enabled.kind, 'boolean', `${type} lacks enabled`);
    }
  });

  test('the default configuration creates one detector per defect type but the opt-in ones (the corruption model, expected captions and cues), and a disabled one is left out', () => {
    const config = defaultDetectorsConfig();
    const byDefault = DEFECT_TYPES.filter(
      (t) =>
        !['corruption', 'captions_missing', 'cues_missing', 'tr101290_priority1', 'tr101290_priority2'].includes(t),
    );
    assert.deepEqual(
      createDetectors(config, recorder()).map((d) => d.type),
      byDefault,
    );
    config.blur.enabled = false;
    config.stall.enabled = false;
    const types = createDetectors(config, recorder()).map((d) => d.type);
    assert.ok(!types.includes('blur') && !types.includes('stall'));
    assert.equal(types.length, byDefault.length - 2);
  });

  test('flush at the end closes every active event at the flush time', () => {
    const sink = recorder();
    const detectors = createDetectors(defaultDetectorsConfig(), sink);
    for (const detector of detectors) {
      feedVideo(detector, 0, 5, always(BLACK));
      feedAudio(detector, 0, 5, () => ({ peakDbfs: [-Infinity, -Infinity], shortTermLufs: -Infinity }));
      detector.onTick?.(5, 4);
    }
    assert.deepEqual(sink.startedEvents.map((e) => e.type).sort(), ['black', 'silence', 'stall']);
    for (const detector of detectors) detector.flush(5);
    assert.equal(sink.endedEvents.length, 3);
    for (const event of sink.endedEvents) near(event.end, 5);
  });

  test("the default config carries the defect table's defaults", () => {
    const config = defaultDetectorsConfig();
    assert.equal(config.black.pictureRatio, 0.98);
    assert.equal(config.black.minDuration, 2);
    assert.equal(config.freeze.minDuration, 2);
    assert.equal(config.silence.noiseDbfs, -60);
    assert.equal(config.loudness.targetLufs, -23);
    assert.equal(config.loudness.toleranceLu, 5);
    assert.equal(config.loudness.minDuration, 10);
    assert.equal(config.clipping.minSamples, 3);
    assert.equal(config.clipping.windowSeconds, 0.1);
    assert.equal(config.clipping.levelDbfs, -1);
    assert.equal(config.blockiness.minDuration, 0.5);
    assert.equal(config.blur.minDuration, 2);
    assert.equal(config.stall.minDuration, 3);
    assert.equal(config.decode_error.minDuration, 0);
    assert.equal(config.av_sync.thresholdSeconds, 0.1);
    assert.equal(config.av_sync.minDuration, 2);
  });
});
