/**
 * The ingest session loop: probe the source, decide whether it is live, open a decode session,
 * and keep one open. Live sources are reconnected with capped exponential backoff and jitter
 * (a session that delivered media reuses its probe and resets the backoff); while media is
 * missing a wall-clock tick keeps the stall detector fed and restarts a session that has gone
 * silent. Finite inputs are decoded once, to their end. Every frame and block is mapped onto
 * the stream's one Timeline before the analysis sees it.
 */
import { cappedBackoff } from '../backoff.js';
import { BEAT_MS, everyBeat } from '../beat.js';
import type { Logger } from 'pino';
import type { Readable } from 'node:stream';
import type { AnalyzerConfig } from '../config.js';
import type { AnalysisSize, SessionExit } from './decode-session.js';
import type { StreamFormat } from '../detectors/types.js';
import { AUDIO_BLOCK, DecodeSession } from './decode-session.js';
import type { PcmFormat } from '../audio/format.js';
import type { Phase } from '../contract/status.js';
import { isLivePlaylist, ProbeAborted, probeSource, type ProbeResult } from './probe.js';
import { redact, type SourceRef } from './source-url.js';
import { MediaCredit, Timeline, type WallClock } from './timeline.js';

/** On the analyzer's shared beat, so that its tick and the delivery client's wake the process together. */
const TICK_MS = BEAT_MS;

/**
 * Seconds to wait before reconnect attempt `attempt` (0 = first): exponential from the
 * initial delay, capped, with +/- jitter so a fleet of analyzers does not reconnect in step.
 * `random` is a uniform draw in [0, 1).
 */
export function reconnectDelay(
  attempt: number,
  options: Pick<AnalyzerConfig['ingest'], 'reconnectInitialDelay' | 'reconnectMaxDelay' | 'reconnectJitter'>,
  random: number,
): number {
  return cappedBackoff(
    attempt,
    options.reconnectInitialDelay,
    options.reconnectMaxDelay,
    options.reconnectJitter,
    random,
  );
}

export interface RunResult {
  exitCode: 0 | 1;
  message: string | null;
}

/** What a decode session is asked to deliver. */
export interface DecodeTargets {
  analysis: AnalysisSize;
  /** The PCM the meters take; null: the audio is not analysed. */
  audio: PcmFormat | null;
}

/** The analysis the loop feeds: everything here is on the stream's timeline. */
export interface IngestConsumer {
  /** The first probe: build the analysis; returns why the input cannot be analysed, or null. */
  prepare(probe: ProbeResult, live: boolean): Promise<string | null>;
  /** A session is about to open: forget per-session state; what it must deliver. */
  sessionStarting(): DecodeTargets;
  /** A session has ended: finish what it delivered. */
  sessionEnded(): Promise<void>;
  /** The source delivered again after a lost session. */
  reconnected(): void;
  /** Frames plus seconds of audio analysed so far. */
  mediaSoFar(): number;
  /** Media arrived at timeline `t` (before the frame or block itself). */
  mediaArrived(t: number): void;
  video(t: number, duration: number, luma: Uint8Array, keyframe: boolean): void;
  audio(t: number, samples: Float32Array): void;
  /** Seconds of media in an audio block. */
  audioDuration(samples: Float32Array): number;
  /** A raw audio-minus-video offset, at the timeline time of the last frame. */
  avOffset(t: number, offset: number): void;
  /** What the stream carries, as of timeline `t`: at the first session and on every change. */
  format(t: number, format: StreamFormat): void;
  decodeError(t: number, message: string): void;
  /** Live wall-clock tick once media has flowed; `sinceMedia` in seconds. Finite inputs: null. */
  tick(at: { t: number; sinceMedia: number } | null): void;
  /** Media has been missing for over 1.5 s (every tick while it is). */
  mediaMissing(): void;
  /** The run is over at timeline `end` (after a last sessionEnded): close what is active, release what is held. */
  finish(end: number): Promise<void>;
}

/**
 * Media another part of the analyzer fetches for the decoder (the HLS client's chosen
 * rendition), so that nothing is downloaded twice: probed from its first bytes, decoded from
 * a stream of what follows.
 */
export interface MediaFeed {
  /** What ffmpeg and ffprobe open: a `pipe` source whose `display` is the real one. */
  source: SourceRef;
  /** Whether it is live (the playlist has no end), decided where it is fetched. */
  live: boolean;
  /** Bytes to probe (the newest segment); rejects when `signal` aborts. */
  probeInput(signal: AbortSignal): Promise<Buffer>;
  /** The media for one decode session, from the newest segment on. */
  open(): Readable;
  /** Why the last session's media ended early (its connection failed), in words safe to log; null if it did not. */
  failure?(): string | null;
}

export interface SessionLoopOptions {
  config: AnalyzerConfig;
  source: SourceRef;
  /** Seconds without media after which a session is restarted. */
  reconnectAfter: number;
  clock: WallClock;
  random: () => number;
  log: Logger;
  ffmpegPath?: string;
  ffprobePath?: string;
  /** Media fetched elsewhere (asked for when the run starts); null: ffmpeg opens `source` itself. */
  feed?: () => MediaFeed | null;
}

export class SessionLoop {
  private liveSource: boolean;
  private currentTimeline: Timeline;
  private probe: ProbeResult | null = null;
  private session: DecodeSession | null = null;
  private stopFlag = false;
  /** Aborted by stop(): ends a probe at once (it may otherwise run up to its deadline). */
  private readonly stopping = new AbortController();
  private stopWaiters: (() => void)[] = [];
  /** Stops the ticker. */
  private ticker: (() => void) | null = null;
  private currentPhase: Phase = 'starting';
  private lastMediaWallMs: number | null = null;
  /** What the media received covers: a burst pays for the pause after it. */
  private readonly credit = new MediaCredit();
  private sessionStartWall = 0;
  private mediaLost = false;
  /** reopen() ended the session: the next one opens at once, and it is no reconnect. */
  private reopening = false;
  private endT = 0;
  /** Live: the timeline time at which stop() was asked for. */
  private stoppedAt: number | null = null;
  private lastVideoT: number | null = null;
  private format: StreamFormat = {
    videoCodec: null,
    width: null,
    height: null,
    frameRate: null,
    audioCodec: null,
    sampleRate: null,
    channels: null,
    channelLayout: null,
  };
  private formatAnnounced = false;

  constructor(
    private readonly options: SessionLoopOptions,
    private readonly consumer: IngestConsumer,
  ) {
    this.liveSource = options.source.live;
    this.currentTimeline = new Timeline(options.clock, { live: this.liveSource, maxStep: 5 });
  }

  get live(): boolean {
    return this.liveSource;
  }

  get timeline(): Timeline {
    return this.currentTimeline;
  }

  get phase(): Phase {
    return this.currentPhase;
  }

  get lastMediaWall(): number | null {
    return this.lastMediaWallMs;
  }

  /** The last probe's layout (a reconnect may have probed again). */
  get probed(): ProbeResult | null {
    return this.probe;
  }

  /** What the stream carries, as probed and as the decoder reported since. */
  get streamFormat(): StreamFormat {
    return this.format;
  }

  /** A call, not a field read: stop() flips the flag while the loop awaits, which flow analysis cannot see. */
  private stopRequested(): boolean {
    return this.stopFlag;
  }

  get ready(): boolean {
    const since = this.credit.secondsWithout(this.options.clock());
    return !this.mediaLost && since !== null && since < 5;
  }

  /** Stop a live run: what is active ends now, and nothing starts in between. */
  stop(): void {
    if (this.stopRequested()) return;
    this.stopFlag = true;
    if (this.liveSource) {
      // The contract: active defects end at the signal, not when the children have exited
      // (about 2 s later), and nothing starts in between: no ticks (a stall would), no media.
      this.stoppedAt = this.currentTimeline.now();
      this.stopTicker();
    }
    for (const w of this.stopWaiters.splice(0)) w();
    this.stopping.abort();
    void this.session?.stop();
  }

  /**
   * The media now comes from elsewhere (a feed that became ready after the session opened the
   * source itself): the session ends, and the next one, probed anew, reads the feed at once.
   */
  reopen(): void {
    if (this.stopRequested() || this.session === null) return;
    this.reopening = true;
    void this.session.stop();
  }

  /** A finite input holds its decoder back while analysis catches up. */
  pauseVideo(): void {
    this.session?.pauseVideo();
  }

  resumeVideo(): void {
    this.session?.resumeVideo();
  }

  async run(): Promise<RunResult> {
    const { config, source, clock, log } = this.options;
    const started = clock();
    let attempt = 0;
    let everOpened = false;
    try {
      // A reconnect reuses the layout probed before (probing a live source costs seconds of
      // its media); only a session that delivered nothing probes again.
      let reuseProbe = false;
      let reopened = false;
      while (!this.stopRequested()) {
        let probe: ProbeResult;
        if (reuseProbe && this.probe) {
          probe = this.probe;
        } else {
          try {
            const feed = this.options.feed?.() ?? null;
            probe = await probeSource(feed?.source ?? source, {
              ioTimeoutSeconds: config.ingest.ioTimeout,
              signal: this.stopping.signal,
              ffprobePath: this.options.ffprobePath,
              input: feed ? await feed.probeInput(this.stopping.signal) : undefined,
            });
          } catch (err) {
            if (err instanceof ProbeAborted || this.stopRequested()) break;
            const message = (err as Error).message;
            const giveUp = config.ingest.openTimeout;
            const waited = (clock() - started) / 1000;
            if (!this.liveSource || (!everOpened && giveUp > 0 && waited >= giveUp)) {
              this.currentPhase = 'failed';
              return { exitCode: 1, message };
            }
            log.warn({ source: source.display, err: message }, 'source unavailable; will retry');
            await this.backoff(attempt++);
            continue;
          }
        }
        if (this.probe === null) {
          const refused = await this.prepare(probe);
          if (refused !== null) {
            this.currentPhase = 'failed';
            return { exitCode: 1, message: refused };
          }
        } else if (everOpened && !reopened) {
          this.consumer.reconnected();
        }
        reopened = false;
        this.probe = probe;
        everOpened = true;
        this.currentPhase = 'running';
        const mediaBefore = this.consumer.mediaSoFar();
        const exit = await this.runSession(probe);
        await this.consumer.sessionEnded();
        // A feed's connection failing is why its decoder ran out of input.
        const failed = this.options.feed?.()?.failure?.() ?? null;
        if (failed !== null) exit.lastError = failed;
        if (this.stopRequested()) break;
        if (this.reopening) {
          this.reopening = false;
          reopened = true;
          reuseProbe = false;
          continue;
        }
        if (!this.liveSource) {
          if (this.consumer.mediaSoFar() === 0) {
            this.currentPhase = 'failed';
            const why = exit.lastError === null ? 'no frames were decoded' : redact(exit.lastError, source);
            return { exitCode: 1, message: `cannot decode ${source.display}: ${why}` };
          }
          if (exit.signal !== null) {
            // Killed from outside (OOM killer, an operator): the analysis is incomplete, and
            // the events so far are still reported (the detectors are flushed below).
            this.currentPhase = 'failed';
            return {
              exitCode: 1,
              message: `cannot decode ${source.display} to its end: ffmpeg was killed by ${exit.signal} after ${this.endT.toFixed(1)} s of media`,
            };
          }
          break;
        }
        const delivered = this.consumer.mediaSoFar() > mediaBefore;
        reuseProbe = delivered;
        const err = exit.lastError === null ? null : redact(exit.lastError, source);
        log.warn({ source: source.display, code: exit.code, err }, 'source lost; reconnecting');
        this.currentPhase = 'reconnecting';
        // A session that delivered media resets the backoff.
        if (delivered) attempt = 0;
        await this.backoff(attempt++);
      }
      this.currentPhase = 'finished';
      return { exitCode: 0, message: null };
    } finally {
      this.stopTicker();
      await this.consumer.sessionEnded();
      await this.consumer.finish(this.liveSource ? (this.stoppedAt ?? this.currentTimeline.now()) : this.endT);
    }
  }

  private async prepare(probe: ProbeResult): Promise<string | null> {
    const { config, source, clock } = this.options;
    if (config.live === null && (source.scheme === 'http' || source.scheme === 'https')) {
      // Live only on evidence (an HLS or DASH playlist without an end), never for a mere
      // missing duration: a finite file from a server without Range would be re-read forever.
      this.liveSource = this.options.feed?.()?.live ?? isLivePlaylist(probe);
      this.currentTimeline = new Timeline(clock, { live: this.liveSource, maxStep: 5 });
    }
    const refused = await this.consumer.prepare(probe, this.liveSource);
    if (refused === null) this.startTicker();
    return refused;
  }

  private async backoff(attempt: number): Promise<void> {
    const delay = reconnectDelay(attempt, this.options.config.ingest, this.options.random());
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, delay * 1000);
      this.stopWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private runSession(probe: ProbeResult): Promise<SessionExit> {
    const { source, log } = this.options;
    const timeline = this.currentTimeline;
    timeline.newSegment();
    const targets = this.consumer.sessionStarting();
    const frameStep = 1 / (probe.video?.frameRate ?? 25);
    const audioStep = targets.audio ? AUDIO_BLOCK / targets.audio.sampleRate : 0.02;
    const feed = this.options.feed?.() ?? null;
    const session = new DecodeSession(
      {
        source: feed?.source ?? source,
        stdin: feed?.open(),
        probe,
        analysis: targets.analysis,
        audio: targets.audio,
        ioTimeoutSeconds: this.options.config.ingest.ioTimeout,
        live: this.liveSource,
        ffmpegPath: this.options.ffmpegPath,
      },
      {
        video: (pts, luma, keyframe) => this.onVideo(timeline.map(pts, frameStep), frameStep, luma, keyframe),
        audio: (pts, samples) => this.onAudio(timeline.map(pts, audioStep, !probe.video), samples),
        avOffset: (_pts, offset) => {
          if (this.lastVideoT !== null) this.consumer.avOffset(this.lastVideoT, offset);
        },
        format: (update) =>
          this.formatSeen(
            update.kind === 'video'
              ? { ...this.format, width: update.width, height: update.height, frameRate: update.frameRate }
              : { ...this.format, sampleRate: update.sampleRate, channelLayout: update.channelLayout },
          ),
        decodeError: (message, pts) => {
          if (this.stoppedAt !== null) return;
          this.consumer.decodeError(pts === null ? timeline.now() : timeline.peek(pts), redact(message, source));
        },
        diagnostic: (level, message) =>
          log[level === 'warning' ? 'warn' : 'error']({ source: source.display }, `ffmpeg: ${redact(message, source)}`),
      },
    );
    this.session = session;
    this.sessionStartWall = this.options.clock();
    this.formatSeen({
      ...this.format,
      videoCodec: probe.video?.codec ?? null,
      audioCodec: probe.audio?.codec ?? null,
      channels: probe.audio?.channels ?? null,
      // A later session keeps what the decoder reported over what the probe guessed.
      ...(this.formatAnnounced
        ? {}
        : {
            width: probe.video?.width ?? null,
            height: probe.video?.height ?? null,
            frameRate: probe.video?.frameRate ?? null,
            sampleRate: probe.audio?.sampleRate ?? null,
            channelLayout: probe.audio?.channelLayout ?? null,
          }),
    });
    if (this.stopRequested()) void session.stop();
    return session.exited.finally(() => {
      this.session = null;
    });
  }

  /** Announces the format when it is the first or differs from the last. */
  private formatSeen(next: StreamFormat): void {
    const changed = JSON.stringify(next) !== JSON.stringify(this.format);
    this.format = next;
    if (!changed && this.formatAnnounced) return;
    this.formatAnnounced = true;
    this.consumer.format(this.lastVideoT ?? this.currentTimeline.now(), next);
  }

  private mediaArrived(kind: 'video' | 'audio', t: number, end: number): void {
    this.lastMediaWallMs = this.options.clock();
    this.credit.arrived(kind, end - t, this.lastMediaWallMs);
    if (this.mediaLost) {
      this.mediaLost = false;
      this.currentPhase = 'running';
    }
    this.consumer.mediaArrived(t);
    this.endT = Math.max(this.endT, end);
  }

  private onVideo(t: number, duration: number, luma: Uint8Array, keyframe: boolean): void {
    if (this.stoppedAt !== null) return;
    this.mediaArrived('video', t, t + duration);
    this.lastVideoT = t;
    this.consumer.video(t, duration, luma, keyframe);
  }

  private onAudio(t: number, samples: Float32Array): void {
    if (this.stoppedAt !== null) return;
    this.mediaArrived('audio', t, t + this.consumer.audioDuration(samples));
    this.consumer.audio(t, samples);
  }

  private startTicker(): void {
    if (this.ticker) return;
    this.ticker = everyBeat(TICK_MS, () => this.tick());
  }

  private stopTicker(): void {
    this.ticker?.();
    this.ticker = null;
  }

  private tick(): void {
    if (!this.liveSource) {
      this.consumer.tick(null);
      return;
    }
    // Before the first media the stream has not started: opening is the probe's business.
    const since = this.credit.secondsWithout(this.options.clock());
    if (since === null) return;
    this.consumer.tick({ t: this.currentTimeline.now(), sinceMedia: since });
    if (since > 1.5) {
      this.consumer.mediaMissing();
      if (!this.mediaLost) {
        this.mediaLost = true;
        this.currentPhase = 'stalled';
      }
    }
    // ffmpeg may wait forever on some protocols; restart the session after `reconnectAfter`
    // of silence, counted from its start too, so a session still opening is left alone.
    const silent = Math.min(since, (this.options.clock() - this.sessionStartWall) / 1000);
    if (this.session && silent > this.options.reconnectAfter) {
      this.options.log.warn({ silentSeconds: Number(since.toFixed(1)) }, 'no media; restarting ingest');
      void this.session.stop();
    }
  }
}
