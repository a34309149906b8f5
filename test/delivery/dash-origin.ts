/**
 * A live DASH origin on loopback for the delivery tests, with fault injection per
 * Representation (the DASH counterpart of hls-origin.ts). Its segments are made once by
 * ffmpeg's dash muxer from a cached lavfi clip: two video Representations and one audio, a
 * loop of a few 1 s fragmented MP4 segments each. The origin serves a dynamic MPD whose
 * SegmentTemplate/SegmentTimeline window advances in real time, and rewrites each segment's
 * tfdt so that the media time runs on across loops, as the timeline says.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { cachedMedia, runFfmpeg } from '../media/fixtures.js';
import { withDecodeTimeShift } from './fmp4-boxes.js';
import { countSentBytes } from './sent-bytes.js';

export interface RepresentationSpec {
  id: string;
  kind: 'video' | 'audio';
  width?: number;
  height?: number;
}

export const DASH_LADDER: RepresentationSpec[] = [
  { id: '180p', kind: 'video', width: 320, height: 180 },
  { id: '96p', kind: 'video', width: 160, height: 96 },
  { id: 'audio', kind: 'audio' },
];

export const LOOP_SEGMENTS = 4;
export const SEGMENT_SECONDS = 1;
/** Segments the MPD lists (its time-shift buffer). */
const WINDOW = 5;
const FPS = 25;

export interface RepresentationMedia {
  spec: RepresentationSpec;
  init: Buffer;
  segments: Buffer[];
  /** Media timescale of its track (and its SegmentTemplate@timescale). */
  timescale: number;
  peakBitrate: number;
}

/** The ladder's clip, encoded once per machine (cached), then cut into DASH segments by copy. */
export async function makeDashMedia(dir: string): Promise<RepresentationMedia[]> {
  const clip = await cachedMedia('dash-ladder', 'mp4', (out) => [
    ...['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', `testsrc2=size=320x180:rate=${FPS}`],
    ...['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-t', String(LOOP_SEGMENTS * SEGMENT_SECONDS)],
    ...['-map', '0:v', '-map', '0:v', '-map', '1:a', '-c:v', 'libx264', '-preset', 'ultrafast'],
    ...['-profile:v', 'baseline', '-g', String(FPS * SEGMENT_SECONDS), '-sc_threshold', '0', '-s:v:1', '160x96'],
    ...['-b:v:0', '300k', '-b:v:1', '100k', '-c:a', 'aac', '-b:a', '64k', '-y', out],
  ]);
  mkdirSync(dir, { recursive: true });
  const mpd = join(dir, 'made.mpd');
  await runFfmpeg(
    [
      ...['-hide_banner', '-loglevel', 'error', '-i', clip, '-map', '0', '-c', 'copy', '-f', 'dash'],
      ...['-seg_duration', String(SEGMENT_SECONDS), '-use_timeline', '1', '-use_template', '1'],
      ...['-init_seg_name', 'init-$RepresentationID$.m4s', '-media_seg_name', 'chunk-$RepresentationID$-$Number$.m4s'],
      ...['-adaptation_sets', 'id=0,streams=v id=1,streams=a', mpd],
    ],
    { what: 'cutting the DASH ladder' },
  );
  const timescales = [...readFileSync(mpd, 'utf8').matchAll(/timescale="(\d+)"/g)].map((m) => Number(m[1]));
  return DASH_LADDER.map((spec, i) => {
    const segments = Array.from({ length: LOOP_SEGMENTS }, (_, n) =>
      readFileSync(join(dir, `chunk-${i}-${n + 1}.m4s`)),
    );
    return {
      spec,
      init: readFileSync(join(dir, `init-${i}.m4s`)),
      segments,
      timescale: timescales[i] ?? 1,
      peakBitrate: Math.max(...segments.map((s) => (s.length * 8) / SEGMENT_SECONDS)),
    };
  });
}

/** Faults of one Representation (or of the MPD); each applies from the moment it is set. */
export interface DashFaults {
  /** Its SegmentTimeline stops growing at this segment number. */
  frozenAt?: number;
  /** From this segment number on, S@t is later (a gap, seconds > 0) or earlier (an overlap, < 0). */
  timelineShift?: { fromNumber: number; seconds: number };
  /** The next segment requests are answered with this status. */
  failSegments?: { status: number; count: number };
  /** Segments are sent this many times slower than real time. */
  slowFactor?: number;
  /** @bandwidth declared instead of the truth. */
  bandwidth?: number;
  /** Left out of the MPD. */
  removed?: boolean;
}

/** One Period of the MPD: its id, start (seconds), media URL prefix and what each Representation lists in it. */
interface PeriodSpec {
  id: string;
  start: number;
  prefix?: string;
  segmentsOf: (media: RepresentationMedia) => { first: number; timeline: string; presentationTimeOffset?: number };
}

export class DashOrigin {
  readonly faults = new Map<string, DashFaults>();
  /** MPD@publishTime is this many seconds in the past (a stale copy of the MPD). */
  publishTimeBack = 0;
  /** Serve a static (on-demand) MPD of the whole loop instead of a live one. */
  static = false;
  /** The MPD served under another path too, with this Content-Type (a manifest URL that does not say .mpd). */
  alias: { path: string; contentType: string } | null = null;
  /**
   * From this segment on, the media is a second Period (as ad insertion and programme
   * boundaries split live MPDs): its own $Number$ from 1, its own media URLs, its
   * SegmentTimeline on the same media clock (presentationTimeOffset).
   */
  newPeriodAt: number | null = null;
  /**
   * In the second Period, Representation id -> the id whose media it serves instead (with that
   * one's initialization segment, declared size and bandwidth): an ad or another programme
   * coded otherwise under the same id.
   */
  readonly secondPeriodServes = new Map<string, string>();
  /**
   * In the second Period, Representation id -> the id it is listed under there instead (as
   * server-side ad insertion lists an ad's Representations under ids of their own).
   */
  readonly secondPeriodIds = new Map<string, string>();
  readonly requests: string[] = [];
  /** The same requests with their method and the body bytes sent (a HEAD sends none). */
  readonly log: { method: string; path: string; bytes: number }[] = [];
  private server: Server | null = null;
  private readonly startMs: number;

  constructor(private readonly media: RepresentationMedia[]) {
    // Five segments are complete when it starts, as on any origin that has been running.
    this.startMs = Math.floor(Date.now() / 1000) * 1000 - WINDOW * SEGMENT_SECONDS * 1000;
  }

  async listen(): Promise<string> {
    const server = createServer((req, res) => void this.answer(req, res));
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/live/manifest.mpd`;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  inject(representation: string, faults: DashFaults): void {
    this.faults.set(representation, { ...this.faults.get(representation), ...faults });
  }

  /** $Number$ of the newest complete segment (numbers start at 1). */
  liveNumber(): number {
    return Math.floor((Date.now() - this.startMs) / (SEGMENT_SECONDS * 1000));
  }

  private async answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://origin').pathname;
    this.requests.push(path);
    const entry = { method: req.method ?? 'GET', path, bytes: 0 };
    this.log.push(entry);
    countSentBytes(res, entry);
    if (path === '/live/manifest.mpd' || path === this.alias?.path) {
      res.writeHead(200, {
        'content-type': this.alias?.path === path ? this.alias.contentType : 'application/dash+xml',
      });
      res.end(this.static ? this.staticMpd() : this.mpd());
      return;
    }
    const m = /^\/live\/([\w]+)\/(p1-)?(?:(init)\.mp4|(\d+)\.m4s)$/.exec(path);
    const listedAs = (id: string): string => [...this.secondPeriodIds].find(([, as]) => as === id)?.[0] ?? id;
    const media = m?.[2] ? this.secondPeriodMedia(listedAs(m[1] ?? '')) : this.media.find((r) => r.spec.id === m?.[1]);
    if (!m || !media) {
      send(res, 404, 'not found');
      return;
    }
    if (m[3] === 'init') {
      res.writeHead(200, { 'content-type': 'video/mp4' });
      res.end(media.init);
      return;
    }
    // The second Period's $Number$ counts from 1 at the split.
    const number = Number(m[4]) + (m[2] && this.newPeriodAt !== null ? this.newPeriodAt - 1 : 0);
    await this.segment(media, number, res);
  }

  /** The media Representation `id` serves in the second Period. */
  private secondPeriodMedia(id: string): RepresentationMedia | undefined {
    const served = this.secondPeriodServes.get(id) ?? id;
    return this.media.find((r) => r.spec.id === served);
  }

  private mpd(): string {
    const now = Date.now();
    const publish = new Date(now - this.publishTimeBack * 1000).toISOString();
    const attributes = [
      'type="dynamic"',
      `availabilityStartTime="${new Date(this.startMs).toISOString()}"`,
      `publishTime="${publish}"`,
      'minimumUpdatePeriod="PT1S"',
      `timeShiftBufferDepth="PT${WINDOW}S"`,
      `maxSegmentDuration="PT${SEGMENT_SECONDS}S"`,
      'minBufferTime="PT2S"',
    ];
    const window = (media: RepresentationMedia): { first: number; last: number; f: DashFaults } => {
      const f = this.faults.get(media.spec.id) ?? {};
      const last = Math.min(this.liveNumber(), f.frozenAt ?? Infinity);
      return { first: Math.max(1, last - WINDOW + 1), last, f };
    };
    const split = this.newPeriodAt;
    if (split === null) {
      return this.document(attributes, [
        {
          id: '0',
          start: 0,
          segmentsOf: (media) => {
            const { first, last, f } = window(media);
            return { first, timeline: timelineOf(media.timescale, first, last, f.timelineShift) };
          },
        },
      ]);
    }
    // The Periods the time-shift window reaches: the first until the split, the second from it.
    const newest = this.liveNumber();
    const periods: PeriodSpec[] = [];
    if (newest - WINDOW + 1 < split) {
      periods.push({
        id: '0',
        start: 0,
        segmentsOf: (media) => {
          const { first, last, f } = window(media);
          return { first, timeline: timelineOf(media.timescale, first, Math.min(last, split - 1), f.timelineShift) };
        },
      });
    }
    if (newest >= split) {
      periods.push({
        id: '1',
        start: (split - 1) * SEGMENT_SECONDS,
        prefix: 'p1-',
        segmentsOf: (media) => {
          const { first, last, f } = window(media);
          const from = Math.max(first, split);
          return {
            first: from - split + 1,
            timeline: timelineOf(media.timescale, from, last, f.timelineShift),
            presentationTimeOffset: (split - 1) * SEGMENT_SECONDS * media.timescale,
          };
        },
      });
    }
    return this.document(attributes, periods);
  }

  private staticMpd(): string {
    const attributes = [
      'type="static"',
      `mediaPresentationDuration="PT${LOOP_SEGMENTS * SEGMENT_SECONDS}S"`,
      'minBufferTime="PT2S"',
    ];
    return this.document(attributes, [
      {
        id: '0',
        start: 0,
        segmentsOf: (media) => ({ first: 1, timeline: timelineOf(media.timescale, 1, LOOP_SEGMENTS, undefined) }),
      },
    ]);
  }

  private document(attributes: string[], periods: PeriodSpec[]): string {
    const body = periods.map((p) => {
      const sets = this.adaptationSets(p);
      return `<Period id="${p.id}" start="PT${p.start}S">${sets.join('')}</Period>`;
    });
    return [
      '<?xml version="1.0" encoding="utf-8"?>',
      `<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" profiles="urn:mpeg:dash:profile:isoff-live:2011" ${attributes.join(' ')}>`,
      `${body.join('')}</MPD>`,
    ].join('\n');
  }

  private adaptationSets({ segmentsOf, prefix = '' }: PeriodSpec): string[] {
    return (['video', 'audio'] as const).map((kind) => {
      const representations = this.media
        .filter((r) => r.spec.kind === kind && !this.faults.get(r.spec.id)?.removed)
        .map((listed) => {
          // Listed under its own id; what it serves (its size, bandwidth, timescale) may be another's.
          const r = { ...((prefix ? this.secondPeriodMedia(listed.spec.id) : listed) ?? listed) };
          r.spec = { ...r.spec, id: listed.spec.id };
          const id = (prefix ? this.secondPeriodIds.get(listed.spec.id) : undefined) ?? listed.spec.id;
          const { first, timeline, presentationTimeOffset } = segmentsOf(r);
          const offset = presentationTimeOffset ? ` presentationTimeOffset="${presentationTimeOffset}"` : '';
          // A truthful declaration: the peak with headroom for the container's overhead.
          const bandwidth = this.faults.get(r.spec.id)?.bandwidth ?? Math.round(r.peakBitrate * 1.05);
          const picture = kind === 'video' ? ` width="${r.spec.width}" height="${r.spec.height}"` : '';
          const codecs = kind === 'video' ? 'avc1.42c00d' : 'mp4a.40.2';
          return [
            `<Representation id="${id}" bandwidth="${bandwidth}" codecs="${codecs}"${picture}>`,
            `<SegmentTemplate timescale="${r.timescale}"${offset} initialization="$RepresentationID$/${prefix}init.mp4" media="$RepresentationID$/${prefix}$Number$.m4s" startNumber="${first}">`,
            `<SegmentTimeline>${timeline}</SegmentTimeline></SegmentTemplate></Representation>`,
          ].join('');
        });
      const frameRate = kind === 'video' ? ` frameRate="${FPS}"` : '';
      return `<AdaptationSet mimeType="${kind}/mp4" segmentAlignment="true"${frameRate}>${representations.join('')}</AdaptationSet>`;
    });
  }

  private async segment(media: RepresentationMedia, number: number, res: ServerResponse): Promise<void> {
    const f = this.faults.get(media.spec.id) ?? {};
    if (f.failSegments && f.failSegments.count > 0) {
      f.failSegments.count--;
      send(res, f.failSegments.status, 'injected failure');
      return;
    }
    const loop = Math.floor((number - 1) / LOOP_SEGMENTS);
    const chunk = media.segments[(number - 1) % LOOP_SEGMENTS];
    if (!chunk || number < 1 || (!this.static && number > this.liveNumber())) {
      send(res, 404, 'no such segment');
      return;
    }
    const body = withDecodeTimeShift(chunk, loop * LOOP_SEGMENTS * SEGMENT_SECONDS * media.timescale);
    res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': body.length });
    if (!f.slowFactor) {
      res.end(body);
      return;
    }
    // Slower than real time: the segment in ten parts spread over `slowFactor` x its duration.
    const parts = 10;
    const step = Math.ceil(body.length / parts);
    for (let i = 0; i < parts; i++) {
      if (res.destroyed) return;
      res.write(body.subarray(i * step, (i + 1) * step));
      await sleep((f.slowFactor * SEGMENT_SECONDS * 1000) / parts);
    }
    res.end();
  }
}

/** S elements for segments first..last of 1 s each; an S@t wherever a shift moves the start. */
function timelineOf(
  timescale: number,
  first: number,
  last: number,
  shift: DashFaults['timelineShift'] | undefined,
): string {
  const d = SEGMENT_SECONDS * timescale;
  const runs: { t: number; r: number }[] = [];
  let end: number | null = null;
  for (let n = first; n <= last; n++) {
    const t = (n - 1) * d + (shift && n >= shift.fromNumber ? Math.round(shift.seconds * timescale) : 0);
    const run = runs.at(-1);
    if (run && t === end) run.r++;
    else runs.push({ t, r: 0 });
    end = t + d;
  }
  return runs.map((s) => `<S t="${s.t}" d="${d}"${s.r > 0 ? ` r="${s.r}"` : ''}/>`).join('');
}

function send(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/plain' });
  res.end(body);
}
