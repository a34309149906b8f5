/**
 * Last line of defence against leaked ffmpeg/ffprobe children: on exit, signal every
 * process whose parent is this process (Linux /proc). Sessions stop their own ffmpeg; this
 * catches probes and anything a crash path left behind.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';

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

let setprivPath: string | null | undefined;

function findSetpriv(): string | null {
  if (setprivPath === undefined) {
    const dirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
    setprivPath = dirs.map((d) => join(d, 'setpriv')).find((p) => existsSync(p)) ?? null;
  }
  return setprivPath;
}

/**
 * `command args` wrapped so that the kernel kills it when this process dies, however it dies
 * (SIGKILL, OOM): util-linux's setpriv sets PR_SET_PDEATHSIG and execs the command under the
 * same pid. ffmpeg notices a dead parent only on its next write to a pipe; ffprobe waiting on
 * a silent server writes nothing and lived on until its I/O timeout. Without setpriv (not
 * Debian) the command runs as it is and killChildren() remains the only defence.
 */
export function dyingWithParent(command: string, args: readonly string[]): { command: string; args: string[] } {
  const setpriv = findSetpriv();
  return setpriv === null
    ? { command, args: [...args] }
    : { command: setpriv, args: ['--pdeathsig', 'KILL', '--', command, ...args] };
}
