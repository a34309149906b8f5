/** Defect and signal events as the CLI prints them: JSON lines (the contract) or readable text. */
import type { ReportedEvent, SignalEvent } from '../contract/status.js';

const round = (v: number): number => Math.round(v * 1000) / 1000;

/** One line of the jsonl contract: at least type, start, end, wallclock. */
export function formatEventJson(e: ReportedEvent | SignalEvent): string {
  return JSON.stringify({
    type: e.type,
    start: round(e.start),
    end: e.end === null ? null : round(e.end),
    wallclock: e.wallclock,
    ...(e.detail ? { detail: e.detail } : {}),
  });
}

function clock(t: number): string {
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  const s = t % 60;
  return `${h > 0 ? `${h}:` : ''}${String(m).padStart(h > 0 ? 2 : 1, '0')}:${s.toFixed(2).padStart(5, '0')}`;
}

function detailText(detail: ReportedEvent['detail'] | SignalEvent['detail']): string {
  if (!detail) return '';
  return ` (${Object.entries(detail)
    .map(([k, v]) => `${k} ${typeof v === 'number' ? round(v) : v}`)
    .join(', ')})`;
}

export function formatEventText(phase: 'started' | 'ended', e: ReportedEvent): string {
  if (phase === 'started') return `${clock(e.start)}  ${e.type.padEnd(13)} STARTED${detailText(e.detail)}`;
  const end = e.end ?? e.start;
  return `${clock(end)}  ${e.type.padEnd(13)} cleared after ${(end - e.start).toFixed(2)} s (from ${clock(e.start)})`;
}

/** A signal event (a PID came or went, a cue out or in): one line, at its instant. */
export function formatSignalText(e: SignalEvent): string {
  return `${clock(e.start)}  ${e.type.padEnd(13)}${detailText(e.detail)}`;
}
