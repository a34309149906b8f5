/**
 * A live HLS origin on loopback for the delivery tests, with fault injection per rendition
 * (Eyevinn's chaos-stream-proxy is the model). Its segments are made once by ffmpeg from
 * lavfi sources: a ladder of renditions, each a loop of a few segments (1 s unless asked otherwise). The origin lists
 * them as a live sliding window that advances in real time (one segment per segment
 * duration); every loop point is an EXT-X-DISCONTINUITY, and every segment carries an
 * EXT-X-PROGRAM-DATE-TIME, so a healthy origin exercises the discontinuity and date checks.
 */
import { mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { runFfmpeg } from '../media/fixtures.js';
import { mediaTimescale, withDecodeTimeShift } from './fmp4-boxes.js';
import { countSentBytes } from './sent-bytes.js';

export interface RenditionSpec {
  name: string;
  width: number;
  height: number;
}

export const LADDER: RenditionSpec[] = [
  { name: 'r0', width: 320, height: 180 },
  { name: 'r1', width: 256, height: 144 },
  { name: 'r2', width: 160, height: 96 },
];

/** Segments per loop, and the default duration of each (the playlist's target duration). */
export const LOOP_SEGMENTS = 4;
export const SEGMENT_SECONDS = 1;
/** Seconds a segment may last: whole seconds, as the origin's EXT-X-TARGETDURATION is written. */
const MAX_SEGMENT_SECONDS = 10;
/** Segments a playlist lists (its sliding window). */
const WINDOW = 5;
const FPS = 25;

export interface RenditionMedia {
  spec: RenditionSpec;
  segments: Buffer[];
  /** Fragmented MP4 (CMAF) media: the initialization section (EXT-X-MAP) and its track's timescale. */
  fmp4?: { init: Buffer; timescale: number };
  /** Peak segment bit rate, bits/s. */
  peakBitrate: number;
  /** Duration of every segment, seconds (the playlist's target duration). */
  segmentSeconds: number;
}

/**
 * Encodes each rendition's loop once (about a second of CPU in all for LADDER with 1 s
 * segments): MPEG-TS with audio, or (`fmp4`) fragmented MP4 segments with an initialization
 * section, video only (one track per fragment, so the origin can run its decode time on
 * across loops).
 */
export async function makeLadderMedia(
  dir: string,
  ladder: readonly RenditionSpec[] = LADDER,
  options: { fmp4?: boolean; segmentSeconds?: number } = {},
): Promise<RenditionMedia[]> {
  const { segmentSeconds = SEGMENT_SECONDS } = options;
  if (!Number.isInteger(segmentSeconds) || segmentSeconds < 1 || segmentSeconds > MAX_SEGMENT_SECONDS) {
    throw new Error(
      `segmentSeconds must be a whole number of seconds from 1 to ${MAX_SEGMENT_SECONDS}, not ${segmentSeconds}`,
    );
  }
  const ext = options.fmp4 ? 'm4s' : 'ts';
  return Promise.all(
    ladder.map(async (spec) => {
      const out = join(dir, spec.name);
      mkdirSync(out, { recursive: true });
      const audio = options.fmp4
        ? ['-an']
        : ['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-c:a', 'aac', '-b:a', '64k'];
      const container = options.fmp4 ? ['-hls_segment_type', 'fmp4', '-hls_fmp4_init_filename', 'init.mp4'] : [];
      await runFfmpeg(
        [
          ...['-hide_banner', '-loglevel', 'error', '-f', 'lavfi'],
          ...['-i', `testsrc2=size=${spec.width}x${spec.height}:rate=${FPS}`],
          ...audio,
          ...['-t', String(LOOP_SEGMENTS * segmentSeconds), '-c:v', 'libx264', '-preset', 'ultrafast'],
          ...['-profile:v', 'baseline', '-g', String(FPS * segmentSeconds), '-sc_threshold', '0'],
          ...['-f', 'hls', '-hls_time', String(segmentSeconds), ...container],
          ...['-hls_list_size', '0', '-hls_segment_filename', join(out, `seg%d.${ext}`), join(out, 'made.m3u8')],
        ],
        { what: `making the ${spec.name} rendition` },
      );
      const files = readdirSync(out).filter((f) => new RegExp(`^seg\\d+\\.${ext}$`).test(f));
      if (files.length !== LOOP_SEGMENTS) throw new Error(`${spec.name}: ffmpeg made ${files.length} segments`);
      const segments = Array.from({ length: LOOP_SEGMENTS }, (_, i) => readFileSync(join(out, `seg${i}.${ext}`)));
      const peakBitrate = Math.max(...segments.map((s) => (s.length * 8) / segmentSeconds));
      if (!options.fmp4) return { spec, segments, peakBitrate, segmentSeconds };
      const init = readFileSync(join(out, 'init.mp4'));
      return { spec, segments, peakBitrate, segmentSeconds, fmp4: { init, timescale: mediaTimescale(init) } };
    }),
  );
}

/** Faults of one rendition; each applies from the moment it is set. */
export interface RenditionFaults {
  /** The playlist stops updating (frozen at the window of this moment). */
  frozenAt?: number;
  /** EXT-X-MEDIA-SEQUENCE is this much lower than it should be. */
  sequenceRollback?: number;
  /** EXT-X-DISCONTINUITY tags are left out (the sequence still counts them). */
  dropDiscontinuity?: boolean;
  /** The next segment requests are answered with this status. */
  failSegments?: { status: number; count: number };
  /** Segments are sent this many times slower than real time. */
  slowFactor?: number;
  /** HEAD requests of segments are answered 405 (a server that allows GET only). */
  refuseHead?: boolean;
  /** What the multivariant playlist declares instead of the truth. */
  declare?: { bandwidth?: number; resolution?: string };
  /** Left out of the multivariant playlist. */
  removed?: boolean;
  /** EXTINF declares this many seconds for the segments from now on (longer than the target duration). */
  declaredDuration?: number;
  /** Added to the dates of the segments from this sequence number on. */
  dateJump?: { fromMsn: number; seconds: number };
}

/** A cue break the playlists mark: EXT-X-CUE-OUT on `msn`, EXT-X-CUE-IN two segments later, and a DATERANGE. */
export interface CueBreak {
  msn: number;
  id: string;
  /** false: no EXT-X-CUE-IN follows (a break that does not return). */
  returns?: boolean;
}

export class HlsOrigin {
  readonly faults = new Map<string, RenditionFaults>();
  readonly cues: CueBreak[] = [];
  /** The multivariant playlist served under another path too, with this Content-Type (a manifest URL that does not say .m3u8). */
  alias: { path: string; contentType: string } | null = null;
  /** Requests answered, by path (for the tests' own bookkeeping). */
  readonly requests: string[] = [];
  /** The same requests with their method, Range header, User-Agent and the body bytes sent. */
  readonly log: { method: string; path: string; range: string | null; agent: string; bytes: number }[] = [];
  private server: Server | null = null;
  /** Bytes written on connections already closed (bytesServed adds the open ones). */
  private closedBytes = 0;
  private readonly sockets = new Set<Socket>();
  private readonly startMs: number;
  private readonly dateBaseMs = Date.UTC(2026, 0, 1);
  /** The media's segment duration (every rendition's: one target duration for the ladder). */
  readonly segmentSeconds: number;

  constructor(private readonly media: RenditionMedia[]) {
    const durations = new Set(media.map((m) => m.segmentSeconds));
    if (durations.size > 1)
      throw new Error(`the renditions' segments last ${[...durations].join(', ')} s: one duration only`);
    this.segmentSeconds = media[0]?.segmentSeconds ?? SEGMENT_SECONDS;
    // Five segments are complete when it starts, as on any origin that has been running.
    this.startMs = Date.now() - WINDOW * this.segmentSeconds * 1000;
  }

  /** Starts serving, on `port` (default: any free one); resolves to the multivariant playlist's URL. */
  async listen(port = 0): Promise<string> {
    const server = createServer((req, res) => void this.answer(req, res));
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => {
        this.closedBytes += socket.bytesWritten;
        this.sockets.delete(socket);
      });
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/master.m3u8`;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Bytes the origin has sent (headers and bodies), as a network would carry them. */
  get bytesServed(): number {
    let open = 0;
    for (const socket of this.sockets) open += socket.bytesWritten;
    return this.closedBytes + open;
  }

  /** Sets a fault of one rendition now. */
  inject(rendition: string, faults: RenditionFaults): void {
    this.faults.set(rendition, { ...this.faults.get(rendition), ...faults });
  }

  /** The media sequence number of the newest complete segment. */
  liveMsn(): number {
    return Math.floor((Date.now() - this.startMs) / (this.segmentSeconds * 1000)) - 1;
  }

  private async answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://origin').pathname;
    this.requests.push(path);
    const entry = {
      method: req.method ?? 'GET',
      path,
      range: req.headers.range ?? null,
      agent: req.headers['user-agent'] ?? '',
      bytes: 0,
    };
    this.log.push(entry);
    countSentBytes(res, entry);
    if (path === '/master.m3u8') {
      send(res, 200, this.multivariant());
      return;
    }
    if (path === this.alias?.path) {
      res.writeHead(200, { 'content-type': this.alias.contentType }).end(this.multivariant());
      return;
    }
    const m = /^\/(\w+)\/(?:(index)\.m3u8|(init)\.mp4|seg-(\d+)\.(?:ts|m4s))$/.exec(path);
    const media = this.media.find((r) => r.spec.name === m?.[1]);
    if (!m || !media) {
      send(res, 404, 'not found');
      return;
    }
    if (m[2] === 'index') {
      send(res, 200, this.mediaPlaylist(media.spec.name));
      return;
    }
    if (m[3] === 'init' && media.fmp4) {
      res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': media.fmp4.init.length });
      res.end(req.method === 'HEAD' ? undefined : media.fmp4.init);
      return;
    }
    await this.segment(media, Number(m[4]), req, res);
  }

  private multivariant(): string {
    const lines = ['#EXTM3U', '#EXT-X-VERSION:3', '#EXT-X-INDEPENDENT-SEGMENTS'];
    for (const r of this.media) {
      const f = this.faults.get(r.spec.name) ?? {};
      if (f.removed) continue;
      // A truthful declaration: the peak with headroom for the container's overhead.
      const bandwidth = f.declare?.bandwidth ?? Math.round(r.peakBitrate * 1.05);
      const resolution = f.declare?.resolution ?? `${r.spec.width}x${r.spec.height}`;
      lines.push(
        `#EXT-X-STREAM-INF:BANDWIDTH=${bandwidth},RESOLUTION=${resolution},CODECS="${r.fmp4 ? 'avc1.42c00d' : 'avc1.42c00d,mp4a.40.2'}",FRAME-RATE=${FPS}.000`,
        `${r.spec.name}/index.m3u8`,
      );
    }
    return `${lines.join('\n')}\n`;
  }

  private mediaPlaylist(rendition: string): string {
    const f = this.faults.get(rendition) ?? {};
    const live = f.frozenAt ?? this.liveMsn();
    const first = Math.max(0, live - WINDOW + 1);
    // The server's count: tagged segments removed from the window (RFC 8216 section 6.2.2).
    const discontinuitySequence = first === 0 ? 0 : Math.floor((first - 1) / LOOP_SEGMENTS);
    const lines = [
      '#EXTM3U',
      '#EXT-X-VERSION:3',
      `#EXT-X-TARGETDURATION:${this.segmentSeconds}`,
      `#EXT-X-MEDIA-SEQUENCE:${first - (f.sequenceRollback ?? 0)}`,
      `#EXT-X-DISCONTINUITY-SEQUENCE:${discontinuitySequence}`,
    ];
    const media = this.media.find((r) => r.spec.name === rendition);
    if (media?.fmp4) lines.push('#EXT-X-MAP:URI="init.mp4"');
    for (let msn = first; msn <= live; msn++) {
      if (msn > 0 && msn % LOOP_SEGMENTS === 0 && !f.dropDiscontinuity) lines.push('#EXT-X-DISCONTINUITY');
      const jump = f.dateJump && msn >= f.dateJump.fromMsn ? f.dateJump.seconds * 1000 : 0;
      const date = new Date(this.dateBaseMs + msn * this.segmentSeconds * 1000 + jump).toISOString();
      lines.push(`#EXT-X-PROGRAM-DATE-TIME:${date}`);
      for (const cue of this.cues) {
        if (cue.msn === msn) {
          lines.push(`#EXT-X-CUE-OUT:DURATION=${2 * this.segmentSeconds}`);
          lines.push(
            `#EXT-X-DATERANGE:ID="${cue.id}",START-DATE="${date}",PLANNED-DURATION=${2 * this.segmentSeconds},SCTE35-OUT=0xFC002F`,
          );
        }
        if (cue.msn + 2 === msn && cue.returns !== false) lines.push('#EXT-X-CUE-IN');
      }
      const duration =
        f.declaredDuration !== undefined && msn > (f.frozenAt ?? -1) ? f.declaredDuration : this.segmentSeconds;
      lines.push(`#EXTINF:${duration.toFixed(3)},`, `seg-${msn}.${media?.fmp4 ? 'm4s' : 'ts'}`);
    }
    return `${lines.join('\n')}\n`;
  }

  private async segment(media: RenditionMedia, msn: number, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const f = this.faults.get(media.spec.name) ?? {};
    if (f.failSegments && f.failSegments.count > 0) {
      f.failSegments.count--;
      send(res, f.failSegments.status, 'injected failure');
      return;
    }
    const looped = media.segments[msn % LOOP_SEGMENTS];
    if (!looped || msn > this.liveMsn()) {
      send(res, 404, 'no such segment');
      return;
    }
    // Fragmented MP4 carries its decode time: it runs on across loops, as a live encoder's does.
    const shift = Math.floor(msn / LOOP_SEGMENTS) * LOOP_SEGMENTS * this.segmentSeconds * (media.fmp4?.timescale ?? 0);
    const body = media.fmp4 ? withDecodeTimeShift(looped, shift) : looped;
    if (f.refuseHead && req.method === 'HEAD') {
      send(res, 405, 'GET only');
      return;
    }
    const type = media.fmp4 ? 'video/mp4' : 'video/mp2t';
    // RFC 9110 14.2: the first bytes (a headers-only check asks for one, a probe for more), with the total size.
    const first = /^bytes=0-(\d+)$/.exec(req.headers.range ?? '');
    if (first) {
      const last = Math.min(Number(first[1]), body.length - 1);
      res.writeHead(206, { 'content-type': type, 'content-range': `bytes 0-${last}/${body.length}` });
      res.end(body.subarray(0, last + 1));
      return;
    }
    res.writeHead(200, { 'content-type': type, 'content-length': body.length });
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
      await sleep((f.slowFactor * this.segmentSeconds * 1000) / parts);
    }
    res.end();
  }
}

function send(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': status === 200 ? 'application/vnd.apple.mpegurl' : 'text/plain' });
  res.end(body);
}
