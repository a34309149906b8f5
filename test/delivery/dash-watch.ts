/**
 * The DASH delivery tests' harness: a loopback origin (dash-origin.ts) watched by the
 * analyzer's DASH client with the delivery detectors, recording the events they report.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createDetectors, defaultDetectorsConfig } from '../../analyzer/detectors/index.js';
import type { DefectEvent } from '../../analyzer/detectors/types.js';
import { DashDeliveryMonitor } from '../../analyzer/delivery/dash-monitor.js';
import type { DeliveryObservation } from '../../analyzer/delivery/observations.js';
import type { SegmentChecks } from '../../analyzer/delivery/segment-check.js';
import { DashOrigin, makeDashMedia, type RepresentationMedia } from './dash-origin.js';
import { eventually, startsWithin } from './watch.js';

export async function dashMedia(): Promise<{ media: RepresentationMedia[]; dir: string; remove: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), 'streamqc-dash-origin-'));
  return { media: await makeDashMedia(dir), dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface DashWatch {
  origin: DashOrigin;
  monitor: DashDeliveryMonitor;
  now: () => number;
  started: DefectEvent[];
  ended: DefectEvent[];
  observations: DeliveryObservation[];
  stop: () => Promise<void>;
}

/** How the watch checks segments: every one downloaded (`all`, the default here), or only `decoded`'s. */
export interface DashWatchOptions {
  timeoutSeconds?: number;
  segmentChecks?: SegmentChecks;
  decoded?: string;
}

export async function watchDash(origin: DashOrigin, options: DashWatchOptions = {}): Promise<DashWatch> {
  const url = await origin.listen();
  const began = performance.now();
  const now = (): number => (performance.now() - began) / 1000;
  const started: DefectEvent[] = [];
  const ended: DefectEvent[] = [];
  const observations: DeliveryObservation[] = [];
  const detectors = createDetectors(defaultDetectorsConfig(), {
    started: (e) => started.push(e),
    ended: (e) => ended.push(e),
  }).filter((d) => d.onDelivery !== undefined);
  const monitor = new DashDeliveryMonitor({
    url,
    now,
    observe: (o) => {
      if (o.kind !== 'tick') observations.push(o);
      for (const d of detectors) d.onDelivery?.(o);
    },
    timeoutSeconds: options.timeoutSeconds ?? 5,
    probe: true,
    segmentChecks: options.segmentChecks ?? 'all',
    decoded: (rendition) => rendition === options.decoded,
  });
  await monitor.start();
  const stop = async (): Promise<void> => {
    await monitor.stop();
    for (const d of detectors) d.flush(now());
    await origin.close();
  };
  return { origin, monitor, now, started, ended, observations, stop };
}

/** Every Representation has loaded and fetched a segment. */
export async function representationsFollowed(w: DashWatch, count: number): Promise<void> {
  await eventually('the Representations are followed', () => {
    const r = w.monitor.renditions;
    return r.length === count && r.every((v) => v.loaded && v.segmentBitrate !== null) ? true : undefined;
  });
}

/** The first event of `type` on `rendition`. */
export function dashEventOf(w: DashWatch, type: string, rendition: string): Promise<DefectEvent> {
  return eventually(`${type} on ${rendition}`, () =>
    w.started.find((e) => e.type === type && e.detail?.rendition === rendition),
  );
}

/** Nothing was raised but on `faulty` renditions. */
export function raisedOnlyOn(w: DashWatch, faulty: string[]): void {
  const elsewhere = w.started.filter((e) => !faulty.includes(String(e.detail?.rendition)));
  assert.deepEqual(elsewhere, [], `events on healthy renditions: ${JSON.stringify(elsewhere)}`);
}

/** A segment of `rendition` failed with `status` after `at`: an http_error that ends when the next segment loads. */
export async function segmentErrorClosed(w: DashWatch, rendition: string, status: number, at: number): Promise<void> {
  const event = await eventually(`${status} on ${rendition} closed`, () =>
    w.ended.find((e) => e.type === 'http_error' && e.detail?.rendition === rendition),
  );
  assert.deepEqual([event.detail?.resource, event.detail?.status], ['segment', status]);
  // The next segment is listed within a second and requested at once.
  startsWithin(event, at, at + 3);
  assert.ok(event.end !== null && event.end > event.start, 'it ends when the next segment loads');
}

/** Followed, then a second of healthy delivery: the moment faults are injected, and the segment two ahead. */
export async function readyForFaults(w: DashWatch): Promise<{ at: number; fromNumber: number }> {
  await representationsFollowed(w, 3);
  await sleep(1000);
  return { at: w.now(), fromNumber: w.origin.liveNumber() + 2 };
}
