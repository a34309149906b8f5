/**
 * One ffmpeg decode process for one connection to the source. ffmpeg (its command built by
 * fluent-ffmpeg) decodes, decimates the picture to the analysis size, and writes:
 *   fd 3: raw 8-bit luma frames, back to back (width x height bytes each)
 *   fd 4: interleaved f32 PCM in blocks of AUDIO_BLOCK frames
 *   stderr: its diagnostics and, in the same ordered stream, one record per video frame
 *           (showinfo: pts in microseconds, keyframe flag) and per audio block (ametadata).
 * Because records, decoder errors and format changes share one stream in ffmpeg's own
 * processing order, each decoder error is pinned to the frame it was reported before, and
 * audio/video offsets are taken where ffmpeg handled them. Frames and blocks are matched to
 * their records by order. Buffers are allocated once per session; handlers get views that are
 * only valid during the call.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { Readable } from 'node:stream';
import ffmpeg from 'fluent-ffmpeg';
import { networkInputOptions, type SourceRef } from './source-url.js';
import type { ProbeResult } from './probe.js';
import type { PcmFormat } from '../audio/format.js';
import { dyingWithParent } from './children.js';

export const AUDIO_BLOCK = 1024;

export interface AnalysisSize {
  width: number;
  height: number;
}

export interface VideoFormatUpdate {
  kind: 'video';
  width: number;
  height: number;
  frameRate: number | null;
  pixelFormat: string;
}
export interface AudioFormatUpdate {
  kind: 'audio';
  sampleRate: number;
  channelLayout: string;
}

export interface SessionHandlers {
  /** A decoded frame at `pts` seconds (session clock); `luma` is valid only during the call. */
  video(pts: number, luma: Uint8Array, keyframe: boolean): void;
  /** An audio block starting at `pts` seconds; `samples` is valid only during the call. */
  audio(pts: number, samples: Float32Array): void;
  /**
   * Audio end minus video presentation time, taken in ffmpeg's own processing order at
   * each video frame (seconds); only when the source has both.
   */
  avOffset(videoPts: number, offset: number): void;
  /** ffmpeg (re)configured its filter graph for this input format. */
  format(update: VideoFormatUpdate | AudioFormatUpdate): void;
  /**
   * The decoder reported corrupt data; `pts` is the frame it was reported before (the
   * damaged one, give or take the decoder's thread lookahead), null without video.
   * Always called before that frame is handed to `video`.
   */
  decodeError(message: string, pts: number | null): void;
  /** Any other ffmpeg diagnostic worth logging. */
  diagnostic(level: 'warning' | 'error', message: string): void;
}

export interface SessionExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The last error ffmpeg printed, if any: the reason a source could not be opened. */
  lastError: string | null;
  /** Whether stop() was called (an exit we asked for). */
  stopped: boolean;
}

export interface SessionOptions {
  source: SourceRef;
  probe: ProbeResult;
  analysis: AnalysisSize;
  /**
   * The PCM the audio pipe carries (what the meters take): the probed audio's own format, or
   * a resampled one; null when the audio is not analysed.
   */
  audio: PcmFormat | null;
  /** Seconds without data before ffmpeg itself gives up on a network source. */
  ioTimeoutSeconds: number;
  /** Read a file at its native frame rate (to simulate a live source). */
  realtime?: boolean;
  /** The source is live (decided by the analyzer, e.g. an HLS playlist without an end). */
  live?: boolean;
  /** For a `pipe` source: the media ffmpeg reads on its stdin (segments fetched by the HLS client). */
  stdin?: Readable;
  ffmpegPath?: string;
}

/** `[graph 0 input from stream 0:0 @ 0x..] [verbose] w:1920 h:1080 pixfmt:yuv420p tb:1/15360 fr:30/1 sar:1/1` */
const VIDEO_INPUT_RE =
  /input from stream \d+:\d+ @ [^\]]+\] \[verbose\] w:(\d+) h:(\d+) pixfmt:(\S+) tb:\S+ fr:(\d+)\/(\d+)/;
/** `[graph_0_in_0_1 @ 0x..] [verbose] tb:1/48000 samplefmt:fltp samplerate:48000 chlayout:stereo` */
const AUDIO_INPUT_RE = /\[verbose\] tb:\S+ samplefmt:\S+ samplerate:(\d+) chlayout:(\S+)/;
/** `[Parsed_showinfo_3 @ 0x..] [info] n:  25 pts:1000000 pts_time:1 ... iskey:1 type:I` */
const SHOWINFO_RE = /^\[Parsed_showinfo_\d+ @ [^\]]+\] \[info\] n:\s*\d+ pts:\s*(-?\d+) .*iskey:([01])/;
/** `[Parsed_ametadata_5 @ 0x..] [info] frame:12   pts:256000  pts_time:0.256` and then `... [info] sqa=1` */
const AMETA_RE = /^\[Parsed_ametadata_\d+ @ [^\]]+\] \[info\] (?:frame:\s*\d+\s+pts:\s*(-?\d+)|(sqa)=1)/;
const LEVEL_RE = /^(?:\[([^\]@]+?)(?: @ [^\]]+)?\] )?\[(fatal|error|warning|info|verbose)\] (.*)$/;
const DECODE_ERROR_RE =
  /concealing|error while decoding|Invalid NAL|corrupt|decode_slice_header|non-existing PPS|no frame!|illegal|Error while decoding stream/i;

/**
 * Once a frame's record is printed its timestamp has served. With -copyts a stream's
 * timestamps may step back (an audio clock jump, concatenated or restarted streams), and the
 * raw muxers refuse such packets: a dropped block would pair every later record with the
 * wrong data. Renumbering at the stream's nominal rate keeps the pipes complete, and keeps
 * ffmpeg's choice of which output to feed next close to media time.
 */
function monotonicVideoOutput(frameRate: number | null): string {
  // The probed rate, not FRAME_RATE: a variable-rate stream has none, and NaN is no timestamp.
  return `setpts=N/${frameRate && frameRate > 0 ? frameRate : 25}/TB`;
}
const MONOTONIC_AUDIO_OUTPUT = 'asetpts=N/SR/TB';

export function buildDecodeArgs(opts: SessionOptions): string[] {
  const { source, probe, analysis } = opts;
  const chains: string[] = [];
  const cmd = ffmpeg(source.input).inputOptions([
    '-hide_banner',
    '-nostdin',
    '-nostats', // the progress line ends in a carriage return and would swallow records
    // repeat: identical record lines must never collapse into "Last message repeated".
    '-loglevel',
    'repeat+level+verbose',
    // Live HLS arrives a segment at a time; reading it at its native rate spreads the frames
    // over real time, so a pause between segments is not mistaken for an outage.
    // A source the analyzer tees to ffmpeg's stdin is read as ffmpeg read that source itself.
    ...(opts.realtime || (opts.live && ['http', 'https', 'pipe'].includes(source.origin ?? source.scheme))
      ? ['-re']
      : []),
    // The layout is known from the probe: a live source need not be analysed for 5 s again
    // before frames flow (every second of that is added to a reconnect).
    ...((source.origin ?? source.scheme) === 'file' ? [] : ['-analyzeduration', '1000000', '-probesize', '1000000']),
    // Each stream's own timestamps, untouched: for MPEG-TS and HLS ffmpeg otherwise "corrects"
    // a step back in any one stream by shifting every stream of the input from then on, so an
    // audio clock jump would move the video's frame times. The timeline judges discontinuities
    // on the video alone; ffmpeg still unwraps the 33-bit PTS.
    '-copyts',
    ...networkInputOptions(source, opts.ioTimeoutSeconds),
  ]);
  if (probe.video) {
    // Nearest-neighbour decimation by a power of two keeps the 8x8 coding grid aligned and
    // was the cheapest scaler measured; microsecond timestamps keep precision on long runs;
    // showinfo without checksums is nearly free on the small plane.
    chains.push(
      `[0:v:0]scale=${analysis.width}:${analysis.height}:flags=neighbor,format=gray,settb=AVTB,showinfo=checksum=0,` +
        `${monotonicVideoOutput(probe.video.frameRate)}[v]`,
    );
  }
  if (probe.audio && opts.audio) {
    // Resampled only when the meters cannot take the source's rate: the common path is untouched.
    const resample = opts.audio.sampleRate === probe.audio.sampleRate ? '' : `aresample=${opts.audio.sampleRate},`;
    chains.push(
      `[0:a:0]${resample}aformat=sample_fmts=flt,asettb=AVTB,asetnsamples=n=${AUDIO_BLOCK}:p=0,` +
        `ametadata=mode=add:key=sqa:value=1,ametadata=mode=print:key=sqa,${MONOTONIC_AUDIO_OUTPUT}[a]`,
    );
  }
  cmd.complexFilter(chains.join(';'));
  if (probe.video) cmd.output('pipe:3').outputOptions(['-map', '[v]', '-fps_mode', 'passthrough', '-f', 'rawvideo']);
  if (probe.audio && opts.audio) cmd.output('pipe:4').outputOptions(['-map', '[a]', '-f', 'f32le']);
  // fluent-ffmpeg builds the argument list; we spawn ourselves because it cannot hand a
  // child more than stdin/stdout/stderr, and the frames need their own pipes.
  return (cmd as unknown as { _getArguments(): string[] })._getArguments();
}

export class DecodeSession {
  readonly exited: Promise<SessionExit>;
  private readonly child: ChildProcess;
  private stopping = false;
  private readonly videoRecords: RecordMatcher<Uint8Array, { pts: number; keyframe: boolean }>;
  private readonly audioRecords: RecordMatcher<Float32Array, number>;
  private lastError: string | null = null;
  private readonly decoders: Set<string>;
  private readonly hasVideo: boolean;
  private readonly audioBlockSeconds: number | null;
  private heldErrors: string[] = [];
  private sawFrame = false;
  private audioPts: number | null = null;
  private audioEnd: number | null = null;

  constructor(
    opts: SessionOptions,
    private readonly handlers: SessionHandlers,
  ) {
    const args = buildDecodeArgs(opts);
    const run = dyingWithParent(opts.ffmpegPath ?? 'ffmpeg', args);
    this.child = spawn(run.command, run.args, {
      stdio: [opts.stdin ? 'pipe' : 'ignore', 'ignore', 'pipe', 'pipe', 'pipe'],
    });
    if (opts.stdin && this.child.stdin) {
      // ffmpeg exiting closes its stdin: the feed is unhooked, never an unhandled EPIPE.
      this.child.stdin.on('error', () => undefined);
      opts.stdin.pipe(this.child.stdin);
      const feed = opts.stdin;
      this.child.on('close', () => feed.destroy());
    }
    const audio = opts.probe.audio ? opts.audio : null;
    this.decoders = new Set(
      [opts.probe.video?.codec, audio && opts.probe.audio?.codec].filter((c): c is string => !!c),
    );
    this.hasVideo = opts.probe.video !== null;
    this.audioBlockSeconds = audio && opts.probe.video ? AUDIO_BLOCK / audio.sampleRate : null;
    this.videoRecords = new RecordMatcher((r, luma) => handlers.video(r.pts, luma, r.keyframe));
    this.audioRecords = new RecordMatcher((pts, samples) => handlers.audio(pts, samples));

    if (opts.probe.video) this.readVideo(this.pipe(3), opts.analysis.width * opts.analysis.height);
    if (audio) this.readAudio(this.pipe(4), audio.channels);
    this.readDiagnostics(this.pipe(2));

    const streamsDone = ([2, 3, 4] as const).map(
      (fd) =>
        new Promise<void>((resolve) => {
          const s = this.pipe(fd);
          s.on('close', () => resolve());
          s.on('error', () => resolve());
        }),
    );
    this.exited = new Promise((resolve) => {
      this.child.on('error', (err) => {
        this.lastError = `cannot run ffmpeg: ${err.message}`;
      });
      this.child.on('close', (code, signal) => {
        void Promise.all(streamsDone).then(() => {
          this.flushHeldErrors(null);
          resolve({ code, signal, lastError: this.lastError, stopped: this.stopping });
        });
      });
    });
  }

  /** ffmpeg's stderr (2), video (3) or audio (4) pipe, all opened by the spawn above. */
  private pipe(fd: 2 | 3 | 4): Readable {
    const stream: unknown = this.child.stdio[fd];
    if (!(stream instanceof Readable)) throw new Error(`ffmpeg's pipe ${fd} is not open`);
    return stream;
  }

  /** Stop reading frames (ffmpeg blocks on the full pipe): back-pressure for finite inputs. */
  pauseVideo(): void {
    this.pipe(3).pause();
  }

  resumeVideo(): void {
    this.pipe(3).resume();
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Ask ffmpeg to stop, then force it after a grace period; resolves when it is reaped. */
  async stop(graceMs = 2000): Promise<SessionExit> {
    this.stopping = true;
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
      timer.unref();
      const exit = await this.exited;
      clearTimeout(timer);
      return exit;
    }
    return this.exited;
  }

  private readVideo(stream: Readable, frameBytes: number): void {
    const frame = new Uint8Array(frameBytes);
    readBlocks(stream, frame, () => this.videoRecords.data(frame));
  }

  private readAudio(stream: Readable, channels: number): void {
    const bytes = new Uint8Array(AUDIO_BLOCK * channels * 4);
    const samples = new Float32Array(bytes.buffer);
    const tail = readBlocks(stream, bytes, () => this.audioRecords.data(samples));
    stream.on('end', () => {
      // The last block of a finite input is usually short: whole sample frames only.
      const whole = tail() - (tail() % (channels * 4));
      if (whole > 0) this.audioRecords.data(samples.subarray(0, whole / 4));
    });
  }

  private readDiagnostics(stream: Readable): void {
    let pending = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      pending += chunk;
      let start = 0;
      for (;;) {
        const nl = nextLineEnd(pending, start);
        if (nl < 0) break;
        const line = pending.slice(start, nl).trim();
        start = nl + 1;
        if (line) this.onLine(line);
      }
      pending = pending.slice(start);
      // A runaway line without newline must not grow without bound.
      if (pending.length > 65536) pending = '';
    });
  }

  private flushHeldErrors(pts: number | null): void {
    if (this.heldErrors.length === 0) return;
    const held = this.heldErrors;
    this.heldErrors = [];
    if (!this.sawFrame) {
      // Joining a live stream between keyframes: the decoder complains until the first
      // keyframe (missing parameter sets, references). That is not damage in the stream.
      this.handlers.diagnostic(
        'warning',
        `ignored ${held.length} decoder complaints before the first frame (joined mid-stream)`,
      );
      return;
    }
    for (const message of held) this.handlers.decodeError(message, pts);
  }

  private onLine(line: string): void {
    const frame = SHOWINFO_RE.exec(line);
    if (frame) {
      const pts = Number(frame[1]) / 1e6;
      this.flushHeldErrors(pts);
      this.sawFrame = true;
      if (this.audioEnd !== null) this.handlers.avOffset(pts, this.audioEnd - pts);
      this.videoRecords.record({ pts, keyframe: frame[2] === '1' });
      return;
    }
    const audio = AMETA_RE.exec(line);
    if (audio) {
      if (audio[1] !== undefined) {
        this.audioPts = Number(audio[1]) / 1e6;
      } else if (this.audioPts !== null) {
        if (this.audioBlockSeconds !== null) this.audioEnd = this.audioPts + this.audioBlockSeconds;
        this.audioRecords.record(this.audioPts);
        this.audioPts = null;
      }
      return;
    }
    const video = VIDEO_INPUT_RE.exec(line);
    if (video) {
      const [, width, height, pixelFormat = '', rateNum, rateDen] = video;
      const num = Number(rateNum);
      const den = Number(rateDen);
      this.handlers.format({
        kind: 'video',
        width: Number(width),
        height: Number(height),
        pixelFormat,
        frameRate: den > 0 && num > 0 ? num / den : null,
      });
      return;
    }
    const audioFormat = AUDIO_INPUT_RE.exec(line);
    if (audioFormat) {
      const [, sampleRate, channelLayout = ''] = audioFormat;
      this.handlers.format({ kind: 'audio', sampleRate: Number(sampleRate), channelLayout });
      return;
    }
    const m = LEVEL_RE.exec(line);
    if (!m) return;
    const [, rawContext, level, message = ''] = m;
    if (level !== 'error' && level !== 'fatal' && level !== 'warning') return;
    const context = rawContext?.trim();
    const text = context ? `${context}: ${message}` : message;
    if (DECODE_ERROR_RE.test(message) || (context !== undefined && this.decoders.has(context))) {
      if (this.hasVideo) {
        if (this.heldErrors.length < 1000) this.heldErrors.push(text);
      } else {
        this.handlers.decodeError(text, null);
      }
      return;
    }
    if (level === 'error' || level === 'fatal') this.lastError = message;
    this.handlers.diagnostic(level === 'warning' ? 'warning' : 'error', text);
  }
}

/**
 * Pairs data (frames, audio blocks) with their records by order. ffmpeg logs a record before
 * it writes the data, but stderr and the data pipes are read independently, so data may
 * overtake its record: such data is copied and held until the record arrives (a few frames
 * at most, bounded by the pipe buffers).
 */
class RecordMatcher<T extends Uint8Array | Float32Array, R> {
  private readonly records: R[] = [];
  private readonly waiting: T[] = [];

  constructor(private readonly deliver: (record: R, data: T) => void) {}

  record(record: R): void {
    this.records.push(record);
    this.pair();
  }

  data(data: T): void {
    this.waiting.push(this.waiting.length > 0 || this.records.length === 0 ? (data.slice() as T) : data);
    this.pair();
  }

  /** Deliver the oldest record with the oldest data while both exist. */
  private pair(): void {
    const n = Math.min(this.records.length, this.waiting.length);
    const records = this.records.splice(0, n);
    const data = this.waiting.splice(0, n);
    records.forEach((record, i) => {
      const d = data[i];
      if (d) this.deliver(record, d);
    });
  }
}

/**
 * Cut a byte stream into fixed-size blocks assembled in `block` (allocated once); `onBlock`
 * sees each full block. Returns a function telling how many bytes of a partial block remain.
 */
function readBlocks(stream: Readable, block: Uint8Array, onBlock: () => void): () => number {
  let filled = 0;
  stream.on('data', (chunk: Buffer) => {
    let offset = 0;
    while (offset < chunk.length) {
      const take = Math.min(block.length - filled, chunk.length - offset);
      block.set(chunk.subarray(offset, offset + take), filled);
      filled += take;
      offset += take;
      if (filled === block.length) {
        filled = 0;
        onBlock();
      }
    }
  });
  return () => filled;
}

function nextLineEnd(text: string, from: number): number {
  const n = text.indexOf('\n', from);
  const r = text.indexOf('\r', from);
  if (n < 0) return r;
  if (r < 0) return n;
  return Math.min(n, r);
}
