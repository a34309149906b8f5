/**
 * Last line of defence against leaked ffmpeg/ffprobe children: on exit, signal every
 * process whose parent is this process (Linux /proc). Sessions stop their own ffmpeg; this
 * catches probes and anything a crash path left behind.
 */
import { readdirSync, readFileSync } from 'node:fs';

export function childPids(parent = process.pid): number[] {
  const out: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return out; // not Linux: nothing to scan
  }
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // Field 4 is the parent pid; the command name (field 2) may contain spaces, so split after ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === parent) out.push(Number(name));
    } catch {
      // The process exited while we looked.
    }
  }
  return out;
}

export function killChildren(signal: NodeJS.Signals = 'SIGKILL'): number {
  const pids = childPids();
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // Already gone.
    }
  }
  return pids.length;
}
