/**
 * The delivery benchmark's scoring (test/bench/delivery-score.ts): injected faults against
 * reported events, per check.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  costRatios,
  findingWindow,
  scoreDelivery,
  type DeliveryBenchResult,
  type ExpectedFinding,
} from '../bench/delivery-score.js';
import { renderReport, type ReportInput } from '../bench/report.js';

const stale: ExpectedFinding = { type: 'playlist_stale', rendition: '96p', from: 8, to: 16, fault: 'frozen' };
const slow: ExpectedFinding = { type: 'segment_slow', rendition: '144p', from: 20, to: 28, fault: 'slow' };
const windows = [
  { rendition: '96p', from: 8, to: 18 },
  { rendition: '144p', from: 20, to: 30 },
];

test('a fault found on its rendition within its window is found; two events of one fault are one finding', () => {
  const [s] = scoreDelivery(['playlist_stale'], [stale], windows, [
    { type: 'playlist_stale', rendition: '96p', start: 9.5 },
    { type: 'playlist_stale', rendition: '96p', start: 12 },
  ]);
  assert.deepEqual(s, {
    type: 'playlist_stale',
    expected: 1,
    found: 1,
    matchedEvents: 2,
    consequences: 0,
    falseAlarms: 0,
    precision: 1,
    recall: 1,
    missed: [],
  });
});

test('a fault due when injected and again when cleared, with overlapping windows, is found twice', () => {
  const rollback = (from: number): ExpectedFinding => ({
    type: 'media_sequence',
    rendition: '144p',
    from,
    to: 18,
    fault: 'rolled back',
  });
  const [s] = scoreDelivery(['media_sequence'], [rollback(9), rollback(13)], windows, [
    { type: 'media_sequence', rendition: '144p', start: 11.5 },
    { type: 'media_sequence', rendition: '144p', start: 15.5 },
  ]);
  assert.deepEqual([s?.expected, s?.found, s?.matchedEvents, s?.missed], [2, 2, 2, []]);
});

test('a finding of the injection that takes more than the hold less the lead is not credited to the clearing', () => {
  // Dropped discontinuity tags held 3 s (18.6-21.6 s): found 1.2 s in, again as the window slides, and at the clearing.
  const fault = { injectedAt: 18.6, clearedAt: 21.6 };
  const expected = (['inject', 'clear'] as const).map((due): ExpectedFinding => ({
    type: 'discontinuity_sequence',
    rendition: '96p',
    ...findingWindow(due, fault, 2, 3),
    fault: `tags dropped (${due})`,
  }));
  assert.deepEqual(
    expected.map((x) => [x.from, x.to]),
    [
      [16.6, 24.6],
      [21.6, 24.6],
    ],
  );
  const events = [19.8, 21.05, 22.3].map((start) => ({ type: 'discontinuity_sequence', rendition: '96p', start }));
  const [s] = scoreDelivery(['discontinuity_sequence'], expected, [], events);
  assert.deepEqual([s?.expected, s?.found, s?.matchedEvents, s?.missed], [2, 2, 3, []]);
  // Nothing after the clearing: the clearing is missed, whatever came before it.
  const [early] = scoreDelivery(['discontinuity_sequence'], expected, [], events.slice(0, 2));
  assert.deepEqual(early?.missed, ['discontinuity_sequence on 96p at 21.6-24.6 s (tags dropped (clear))']);
});

test('the right type on the wrong rendition or outside the window is a false alarm, and the fault is missed', () => {
  const [s] = scoreDelivery(['segment_slow'], [slow], windows, [
    { type: 'segment_slow', rendition: '180p', start: 22 },
    { type: 'segment_slow', rendition: '144p', start: 40 },
  ]);
  assert.equal(s?.found, 0);
  assert.equal(s.falseAlarms, 2);
  assert.equal(s.precision, 0);
  assert.equal(s.recall, 0);
  assert.deepEqual(s.missed, ['segment_slow on 144p at 20.0-28.0 s (slow)']);
});

test("another type within a fault's window on its rendition is a consequence, not a false alarm", () => {
  const scores = scoreDelivery(['playlist_stale', 'ladder_misaligned', 'media_sequence'], [stale], windows, [
    { type: 'playlist_stale', rendition: '96p', start: 9 },
    { type: 'ladder_misaligned', rendition: '96p', start: 11 },
    { type: 'media_sequence', rendition: null, start: 11 },
  ]);
  assert.deepEqual(
    scores.map((s) => [s.type, s.expected, s.found, s.consequences, s.falseAlarms, s.precision, s.recall]),
    [
      ['playlist_stale', 1, 1, 0, 0, 1, 1],
      ['ladder_misaligned', 0, 0, 1, 0, null, null],
      ['media_sequence', 0, 0, 0, 1, 0, null],
    ],
  );
});

test('the cost ratios: ladder over top rendition, null when the top measured nothing', () => {
  assert.deepEqual(costRatios({ cpuSeconds: 30, bytes: 300 }, { cpuSeconds: 20, bytes: 100 }), { cpu: 1.5, bytes: 3 });
  assert.deepEqual(costRatios({ cpuSeconds: 1, bytes: 1 }, { cpuSeconds: 0, bytes: 0 }), { cpu: null, bytes: null });
});

function deliveryResult(seconds: number): DeliveryBenchResult {
  const [stale, slow] = scoreDelivery(
    ['playlist_stale', 'segment_slow'],
    [
      { type: 'playlist_stale', rendition: '96p', from: 8, to: 16, fault: 'the playlist stops updating' },
      { type: 'segment_slow', rendition: '144p', from: 20, to: 28, fault: 'segments sent 2x slower' },
    ],
    windows,
    [{ type: 'playlist_stale', rendition: '96p', start: 9 }],
  );
  return {
    rounds: 1,
    ladder: ['180p', '144p', '96p'],
    faults: [
      { fault: 'the playlist stops updating', rendition: '96p', injectedAt: 10, clearedAt: 13.5 },
      { fault: 'segments sent 2x slower', rendition: '144p', injectedAt: 22, clearedAt: 26 },
    ],
    events: [{ type: 'playlist_stale', rendition: '96p', start: 9 }],
    scores: [stale!, slow!],
    healthy: { seconds, renditions: 6, falseAlarms: [], otherEvents: { decode_error: 2 } },
    cost: {
      seconds,
      ladder: { cpuSeconds: 33, bytes: 42e6 },
      top: { cpuSeconds: 30, bytes: 20e6 },
      ...(({ cpu, bytes }) => ({ cpuRatio: cpu, bytesRatio: bytes }))(
        costRatios({ cpuSeconds: 33, bytes: 42e6 }, { cpuSeconds: 30, bytes: 20e6 }),
      ),
    },
  };
}

function reportWith(delivery: ReportInput['delivery']): string {
  const notRun = { ran: false as const, reason: 'skipped' };
  return renderReport({
    generatedAt: '2026-12-01T00:00:00Z',
    generatedBy: 'npm run bench',
    machine: {
      cpuModel: 'cpu',
      cores: 2,
      memoryGiB: 8,
      os: 'Debian',
      node: 'v20',
      ffmpeg: 'ffmpeg version 5.1',
      kubeApiserver: 'n/a',
      streamqc: '0.1.0',
    },
    accuracy: notRun,
    cost: notRun,
    operator: notRun,
    conformance: notRun,
    delivery,
    charts: { f1: { drawn: false, reason: 'x' }, cpu: { drawn: false, reason: 'x' } },
  });
}

test('the report shows P and R per delivery check, the missed fault, and the cost ratios against 1.15x', () => {
  const md = reportWith({ ran: true, result: deliveryResult(300), seconds: 600 });
  assert.match(md, /\| playlist_stale \| 1 \| 1 \| 1\.000 \| 1\.000 \| 0 \| 0 \| - \|/);
  assert.match(md, /\| segment_slow \| 1 \| 0 \| n\/a \| 0\.000 \| 0 \| 0 \| segment_slow on 144p at 20\.0-28\.0 s/);
  // A report without longerSegments (written before it existed) shows its one run as 1 s segments.
  assert.match(md, /\| 1 s \| ratio \| 1\.10x \| 2\.10x \|/);
  assert.doesNotMatch(md, /\| 6 s \|/);
  assert.match(
    md,
    /6-rendition ladder, 1 s segments: CPU <= 1\.15x its top rendition decoded alone \| 1\.10x \| met \|/,
  );
  assert.match(
    md,
    /- \*\*MISSED\*\*: 6-rendition ladder, 1 s segments: bytes fetched <= 1\.15x its top rendition decoded alone \(2\.10x\)/,
  );
  assert.match(
    md,
    /- \*\*MISSED\*\*: segment_slow: every injected fault found on its rendition, no false alarm \(found 0 of 1/,
  );
  assert.match(md, /healthy 6-rendition ladder: no delivery event in 300 s \| 0 in 300 s \| met \|/);
  assert.match(md, /other events of the decoded rendition: decode_error x2/);
});

test('the cost at 6 s segments is a row and a verdict of its own beside the 1 s one, with its false alarms', () => {
  const result = deliveryResult(300);
  const longer = {
    segmentSeconds: 6,
    seconds: 300,
    ladder: { cpuSeconds: 36, bytes: 21e6, cpuByProcess: { node: 12, ffmpeg: 24 } },
    top: { cpuSeconds: 30, bytes: 20e6 },
    cpuRatio: 1.2,
    bytesRatio: 1.05,
    falseAlarms: 1,
  };
  const md = reportWith({ ran: true, result: { ...result, longerSegments: [longer] }, seconds: 600 });
  assert.match(md, /\| 1 s \| ratio \| 1\.10x \| 2\.10x \|/);
  assert.match(
    md,
    /\| 6 s \| following the 6-rendition ladder, decoding its top \| 36\.0 \| 21\.0 \| ffmpeg 24\.0, node 12\.0 \|/,
  );
  assert.match(md, /\| 6 s \| ratio \| 1\.20x \| 1\.05x \|/);
  assert.match(
    md,
    /- \*\*MISSED\*\*: 6-rendition ladder, 6 s segments: CPU <= 1\.15x its top rendition decoded alone \(1\.20x\)/,
  );
  assert.match(
    md,
    /6-rendition ladder, 6 s segments: bytes fetched <= 1\.15x its top rendition decoded alone \| 1\.05x \| met \|/,
  );
  assert.match(md, /with 6 s segments, 1 delivery event\(s\) in 300 s/);
});

test('a healthy run shorter than 5 minutes is not measured; a skipped delivery benchmark says so', () => {
  assert.match(reportWith({ ran: true, result: deliveryResult(30), seconds: 60 }), /0 in 30 s \| not measured \|/);
  const skipped = reportWith({ ran: false, reason: 'skipped with --skip-delivery' });
  assert.match(skipped, /## HLS delivery checks[^\n]*\n\n_Not run in this report: skipped with --skip-delivery\._/);
  assert.match(skipped, /Not run in this report: .*HLS delivery/);
});
