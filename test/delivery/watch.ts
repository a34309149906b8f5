/**
 * The delivery tests' harness: a loopback origin (hls-origin.ts) watched by the analyzer's
 * HLS client with the delivery detectors, recording the events, cues and probes they report.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AnalyzerStatus } from '../../analyzer/contract/status.js';
import { createDetectors, defaultDetectorsConfig } from '../../analyzer/detectors/index.js';
import type { DefectEvent } from '../../analyzer/detectors/types.js';
import { HlsDeliveryMonitor, type CueEvent } from '../../analyzer/delivery/hls-monitor.js';
import type { ProbedSegment } from '../../analyzer/delivery/observations.js';
import type { SegmentChecks } from '../../analyzer/delivery/rendition-poller.js';
import { HlsOrigin, makeLadderMedia, type RenditionFaults, type RenditionMedia } from './hls-origin.js';

/** The ladder's media, made once per test file. */
export async function ladderMedia(): Promise<{ media: RenditionMedia[]; dir: string; remove: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), 'streamqc-hls-origin-'));
  return { media: await makeLadderMedia(dir), dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The monitor's name of an origin rendition (its picture height, unique in the ladder). */
export function nameOf(media: RenditionMedia[], rendition: string): string {
  const spec = media.find((m) => m.spec.name === rendition)?.spec;
  if (!spec) throw new Error(`no rendition ${rendition}`);
  return `${spec.height}p`;
}

export interface Watch {
  origin: HlsOrigin;
  monitor: HlsDeliveryMonitor;
  /** Timeline seconds since the watch began. */
  now: () => number;
  started: DefectEvent[];
  ended: DefectEvent[];
  cues: CueEvent[];
  /** What each probe of a segment found, in order. */
  probes: { rendition: string; probed: ProbedSegment }[];
  stop: () => Promise<void>;
}

/** How the watch checks segments: every one downloaded (`all`), or only `decoded`'s (default: all). */
export interface WatchOptions {
  segmentChecks?: SegmentChecks;
  decoded?: string;
  /** Seconds between probes at discontinuities (the client's default otherwise). */
  probeIntervalSeconds?: number;
  /** The ffprobe the probes spawn where a segment's own bytes do not tell (PATH's otherwise). */
  ffprobePath?: string;
}

export async function watch(media: RenditionMedia[], options: WatchOptions = {}): Promise<Watch> {
  const origin = new HlsOrigin(media);
  const url = await origin.listen();
  const began = performance.now();
  const now = (): number => (performance.now() - began) / 1000;
  const started: DefectEvent[] = [];
  const ended: DefectEvent[] = [];
  const cues: CueEvent[] = [];
  const probes: Watch['probes'] = [];
  const detectors = createDetectors(defaultDetectorsConfig(), {
    started: (e) => started.push(e),
    ended: (e) => ended.push(e),
  }).filter((d) => d.onDelivery !== undefined);
  const monitor = new HlsDeliveryMonitor({
    url,
    now,
    observe: (o) => {
      if (o.kind === 'probed') probes.push({ rendition: o.rendition, probed: o.probed });
      for (const d of detectors) d.onDelivery?.(o);
    },
    cue: (c) => cues.push(c),
    timeoutSeconds: 5,
    probe: true,
    segmentChecks: options.segmentChecks ?? 'all',
    decoded: (rendition) => rendition === options.decoded,
    probeIntervalSeconds: options.probeIntervalSeconds,
    ffprobePath: options.ffprobePath,
    multivariantReloadSeconds: 1,
  });
  await monitor.start();
  const stop = async (): Promise<void> => {
    await monitor.stop();
    for (const d of detectors) d.flush(now());
    await origin.close();
  };
  return { origin, monitor, now, started, ended, cues, probes, stop };
}

/** Resolves once `found` returns something; a generous safety bound, not a timing assertion. */
export async function eventually<T>(
  what: string,
  found: () => T | undefined | Promise<T | undefined>,
  limitMs = 30_000,
): Promise<T> {
  const deadline = performance.now() + limitMs;
  for (;;) {
    const value = await found();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`never happened: ${what}`);
    await sleep(100);
  }
}

/** Every rendition has loaded its playlist and fetched a segment, then a second of healthy reloads passed. */
export async function ladderFollowed(w: Watch, renditions: number): Promise<void> {
  await eventually('the ladder is followed', () => {
    const r = w.monitor.renditions;
    return r.length === renditions && r.every((v) => v.loaded && v.segmentBitrate !== null) ? true : undefined;
  });
  await sleep(1000);
}

/** The first event of `type` that names `rendition`. */
export function eventOf(w: Watch, type: string, rendition: string): Promise<DefectEvent> {
  return eventually(`${type} on ${rendition}`, () =>
    w.started.find((e) => e.type === type && e.detail?.rendition === rendition),
  );
}

/** `event` started within [from, to] of the timeline. */
export function startsWithin(event: DefectEvent, from: number, to: number): void {
  assert.ok(
    event.start >= from && event.start <= to,
    `${event.type} started at ${event.start}, expected ${from}..${to}`,
  );
}

/** A segment of `rendition` failed with `status` after `at`: an http_error that ends when the next segment loads. */
export async function segmentFailed(w: Watch, rendition: string, status: number, at: number): Promise<void> {
  const event = await eventually(`${status} closed`, () =>
    w.ended.find((e) => e.type === 'http_error' && e.detail?.rendition === rendition),
  );
  assert.deepEqual([event.detail?.resource, event.detail?.status], ['segment', status]);
  // The next segment is listed within a target duration and requested within another reload.
  startsWithin(event, at, at + 4);
  assert.ok(event.end !== null && event.end > event.start, 'it ends when the next segment loads');
}

/** Nothing was raised on a rendition other than `faulty`. */
export function onlyOn(w: Watch, faulty: string[]): void {
  const elsewhere = w.started.filter((e) => !faulty.includes(String(e.detail?.rendition)));
  assert.deepEqual(elsewhere, [], `events on healthy renditions: ${JSON.stringify(elsewhere)}`);
}

/** The analyzer's /status on `port`, or undefined while it does not answer. */
export async function analyzerStatus(port: number): Promise<AnalyzerStatus | undefined> {
  const res = await fetch(`http://127.0.0.1:${port}/status`).catch(() => null);
  return res?.ok ? ((await res.json()) as AnalyzerStatus) : undefined;
}

/** The analyzer on `port` once it decoded 50 frames of a ladder of which `alive` renditions are alive. */
export function decodingLadder(port: number, alive: number): Promise<AnalyzerStatus> {
  return eventually(
    `frames of a ladder of ${alive} alive`,
    async () => {
      const s = await analyzerStatus(port);
      return s && s.counters.frames >= 50 && s.delivery?.alive === alive ? s : undefined;
    },
    60_000,
  );
}

export type { RenditionFaults };
