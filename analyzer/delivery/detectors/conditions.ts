/**
 * Delivery defects are per rendition: the same check can be active on two renditions at once,
 * each with its own start. This keeps one active event per key (a rendition, or a rendition
 * and a resource) and reports them through the detector's sink; memory is bounded by the
 * ladder (MAX_RENDITIONS) times the few resources of a rendition.
 */
import type { DefectEvent, DefectSink } from '../../detectors/detector.js';

export type Detail = Record<string, number | string>;

export class RenditionConditions<T extends string> {
  private readonly active = new Map<string, DefectEvent<T>>();

  constructor(
    private readonly type: T,
    private readonly sink: DefectSink<T>,
  ) {}

  isActive(key: string): boolean {
    return this.active.has(key);
  }

  /** The condition holds for `key` since timeline `start` (reported once, while it lasts). */
  begin(key: string, start: number, detail: Detail): void {
    if (this.active.has(key)) return;
    const event: DefectEvent<T> = { type: this.type, start, end: null, detail };
    this.active.set(key, event);
    this.sink.started({ ...event });
  }

  /** The condition no longer holds for `key` as of timeline `t`. */
  end(key: string, t: number): void {
    const event = this.active.get(key);
    if (event === undefined) return;
    this.active.delete(key);
    this.sink.ended({ ...event, end: Math.max(t, event.start) });
  }

  /** A fault that happens at one moment (a sequence that jumps): started and ended at `t`. */
  instant(t: number, detail: Detail): void {
    const event: DefectEvent<T> = { type: this.type, start: t, end: null, detail };
    this.sink.started({ ...event });
    this.sink.ended({ ...event, end: t });
  }

  flush(t: number): void {
    for (const key of [...this.active.keys()]) this.end(key, t);
  }
}
