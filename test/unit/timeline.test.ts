import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Timeline } from '../../analyzer/ingest/timeline.js';

function fakeClock(start = 1_700_000_000_000): { now: () => number; advance: (s: number) => void } {
  let ms = start;
  return { now: () => ms, advance: (s) => (ms += s * 1000) };
}

test('media time is followed while media flows, from the first frame', () => {
  const clock = fakeClock();
  const tl = new Timeline(clock.now, { live: true, maxStep: 5 });
  const times = [];
  for (let i = 0; i < 50; i++) {
    times.push(tl.map(1000 + i * 0.04, 0.04));
    clock.advance(0.04);
  }
  assert.equal(times[0], 0);
  assert.ok(Math.abs(times[49]! - 1.96) < 1e-9);
});

test('a reconnect whose clock restarts at zero continues by the wall time that passed', () => {
  const clock = fakeClock();
  const tl = new Timeline(clock.now, { live: true, maxStep: 5 });
  for (let i = 0; i <= 100; i++) {
    tl.map(i * 0.04, 0.04);
    if (i < 100) clock.advance(0.04);
  }
  assert.ok(Math.abs(tl.now() - 4) < 1e-9);
  clock.advance(7); // 7 s outage
  assert.ok(Math.abs(tl.now() - 11) < 1e-9, 'timeline now keeps running in wall time during the gap');
  tl.newSegment();
  const t = tl.map(0, 0.04);
  assert.ok(Math.abs(t - 11) < 1e-9, `resumes at 11 s, got ${t}`);
  clock.advance(0.04);
  assert.ok(Math.abs(tl.map(0.04, 0.04) - 11.04) < 1e-9);
});

test('a 33-bit MPEG-TS PTS wrap does not jump the timeline', () => {
  const clock = fakeClock();
  const tl = new Timeline(clock.now, { live: true, maxStep: 5 });
  const wrap = 2 ** 33 / 90000;
  let last = 0;
  for (let i = 0; i < 100; i++) {
    const pts = (wrap - 2 + i * 0.04) % wrap;
    const t = tl.map(pts, 0.04);
    assert.ok(t >= last, `monotonic at frame ${i}: ${t} < ${last}`);
    assert.ok(t - last < 0.05, `no leap at frame ${i}: ${last} -> ${t}`);
    last = t;
    clock.advance(0.04);
  }
  assert.ok(Math.abs(last - 3.96) < 0.05, `4 s of media is about 4 s of timeline, got ${last}`);
});

test('a file discontinuity advances by one frame, not by the timestamp jump', () => {
  const clock = fakeClock();
  const tl = new Timeline(clock.now, { live: false, maxStep: 5 });
  for (let i = 0; i < 25; i++) tl.map(i * 0.04, 0.04);
  const t = tl.map(3600, 0.04);
  assert.ok(Math.abs(t - 1.0) < 1e-9, `got ${t}`);
  assert.ok(Math.abs(tl.map(3600.04, 0.04) - 1.04) < 1e-9);
});

test('audio before the first video frame does not open the segment', () => {
  const clock = fakeClock();
  const tl = new Timeline(clock.now, { live: false, maxStep: 5 });
  assert.equal(tl.map(-0.021, 0.021, false), 0);
  assert.equal(tl.map(0, 0.04, true), 0);
  assert.ok(Math.abs(tl.map(1.0, 0.021, false) - 1.0) < 1e-9);
});

test('live: an outage the timestamps hide (ffmpeg smoothed them) still shows as wall time', () => {
  const clock = fakeClock();
  const tl = new Timeline(clock.now, { live: true, maxStep: 5 });
  for (let i = 0; i <= 50; i++) {
    tl.map(i * 0.04, 0.04);
    if (i < 50) clock.advance(0.04);
  }
  clock.advance(5); // no media for 5 s, then timestamps continue as if nothing happened
  const t = tl.map(51 * 0.04, 0.04);
  assert.ok(Math.abs(t - (2 + 5)) < 0.05, `resumes about 5 s later, got ${t}`);
});

test('live: media arriving in bursts (HLS segments) does not push the timeline ahead', () => {
  const clock = fakeClock();
  const tl = new Timeline(clock.now, { live: true, maxStep: 5 });
  let t = 0;
  for (let segment = 0; segment < 5; segment++) {
    for (let i = 0; i < 50; i++) t = tl.map(segment * 2 + i * 0.04, 0.04); // 2 s of frames at once
    clock.advance(2);
  }
  assert.ok(Math.abs(t - 9.96) < 1e-9, `media time kept: ${t}`);
});

test('a step back of a few seconds (concatenated files) continues instead of going back', () => {
  const clock = fakeClock();
  const tl = new Timeline(clock.now, { live: false, maxStep: 5 });
  for (let i = 0; i < 100; i++) tl.map(1.4 + i * 0.04, 0.04);
  const t = tl.map(1.4, 0.04); // the next file starts its clock again
  assert.ok(Math.abs(t - 4.0) < 1e-9, `continues one frame on: ${t}`);
  assert.ok(
    Math.abs(tl.map(1.36, 0.021, false) - 3.96) < 1e-9,
    'audio slightly behind video maps back a little, no new segment',
  );
});

test('audio that leaps ahead of a video discontinuity does not move the timeline', () => {
  const clock = fakeClock();
  const tl = new Timeline(clock.now, { live: false, maxStep: 5 });
  for (let i = 0; i < 100; i++) tl.map(i * 0.04, 0.04);
  // Both streams jump an hour on; the audio's first block is decoded before the video's frame.
  assert.ok(Math.abs(tl.map(3604, 0.021, false) - 3.96) < 1e-9, 'audio waits at the last media time');
  assert.ok(Math.abs(tl.map(3604, 0.04) - 4.0) < 1e-9, 'the video continues one frame on');
  assert.ok(Math.abs(tl.map(3604.021, 0.021, false) - 4.021) < 1e-9, 'then audio rides on the new segment');
});
