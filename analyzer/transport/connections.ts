/**
 * How the analyzer opens a TS source itself, for the tee (tapped-feed.ts): each function
 * returns one connection's bytes as a stream that fails with the reason, in words safe to log
 * (no credential, no query value), when the source cannot be read.
 *   file          read from disk
 *   http, https   a streaming GET with the delivery client's rules (credentials to the
 *                 source's own origin only, no downgrade from https to plain http)
 *   srt           srt-live-transmit (Debian's srt-tools, libsrt) writing the payload to its
 *                 stdout: ffmpeg's SRT URL options are mapped to its URI, the child dies
 *                 with the analyzer (children.ts)
 */
import { spawn } from 'node:child_process';
import { createReadStream, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { dyingWithParent } from '../ingest/children.js';
import { REDACTED, redactUrlsIn } from '../ingest/redact-url.js';
import { credentialsApart, SourceError, type SourceRef } from '../ingest/source-url.js';

/** A file INPUT as ffmpeg opens it: `file:PATH` is ffmpeg's explicit file protocol, naming PATH (see assertPlainFile). */
export function fileConnection(input: string): Readable {
  return createReadStream(input.startsWith('file:') ? input.slice('file:'.length) : input);
}

/** A streaming GET of the source; the response must start within `ioTimeoutSeconds`. */
export function httpConnection(source: SourceRef, ioTimeoutSeconds: number): Readable {
  const out = new PassThrough();
  const controller = new AbortController();
  out.on('close', () => controller.abort());
  const { url, authorization } = credentialsApart(source.input);
  const answered = setTimeout(
    () => controller.abort(new Error(`no answer within ${ioTimeoutSeconds} s`)),
    ioTimeoutSeconds * 1000,
  );
  const fail = (err: unknown): void => {
    out.destroy(new Error(redactUrlsIn(reasonOf(err))));
  };
  fetch(url, { signal: controller.signal, headers: authorization ? { authorization: authorization.header } : {} })
    .then((response) => {
      clearTimeout(answered);
      if (source.scheme === 'https' && new URL(response.url).protocol !== 'https:') {
        throw new Error('redirected to plain http, which an https source may not use');
      }
      if (response.status < 200 || response.status > 299 || !response.body) throw new Error(`HTTP ${response.status}`);
      const body = Readable.fromWeb(response.body as NodeReadableStream<Uint8Array>);
      body.on('error', fail);
      body.pipe(out);
    })
    .catch((err: unknown) => {
      clearTimeout(answered);
      fail(err);
    });
  return out;
}

function reasonOf(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  if (err.name === 'AbortError' && err.cause instanceof Error) return err.cause.message;
  const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
  return `${err.message}${cause}`;
}

/** How long srt-live-transmit may take to close its connection when told to stop. */
const STOP_GRACE_MS = 2000;

/** The SRT client the tap runs; null when it is not installed. */
export function srtLiveTransmit(): string | null {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  return dirs.map((d) => join(d, 'srt-live-transmit')).find((p) => existsSync(p)) ?? null;
}

/** ffmpeg's SRT options given in microseconds; srt-live-transmit takes milliseconds. */
const MICROSECOND_OPTIONS = new Set(['latency', 'rcvlatency', 'peerlatency']);
/** ffmpeg's SRT options that srt-live-transmit takes under the same name and unit. */
const SAME_OPTIONS = new Set([
  'mode',
  'passphrase',
  'pbkeylen',
  'streamid',
  'maxbw',
  'oheadbw',
  'tlpktdrop',
  'nakreport',
  'enforced_encryption',
  'transtype',
]);
/** ffmpeg options the tap handles itself (its idle timeout) or that only size ffmpeg's reads. */
const IGNORED_OPTIONS = new Set(['timeout', 'rw_timeout', 'pkt_size', 'payload_size']);

/**
 * The srt-live-transmit URI for an ffmpeg SRT URL (the INPUT as users write it for ffmpeg);
 * an option it cannot carry over is refused, naming it.
 */
export function srtTransmitUri(input: string): string {
  const url = new URL(input);
  const out = new URL(`srt://${url.host}`);
  for (const [name, value] of url.searchParams) {
    if (MICROSECOND_OPTIONS.has(name)) {
      const us = Number(value);
      if (!Number.isFinite(us) || us < 0)
        throw new SourceError(`SRT option ${name}=${value} is not a number of microseconds`);
      out.searchParams.set(name, String(Math.round(us / 1000)));
    } else if (name === 'connect_timeout') {
      out.searchParams.set('conntimeo', value);
    } else if (SAME_OPTIONS.has(name)) {
      out.searchParams.set(name, value);
    } else if (!IGNORED_OPTIONS.has(name)) {
      throw new SourceError(
        `SRT option "${name}" is not supported by the transport tap; supported: ${[...MICROSECOND_OPTIONS, ...SAME_OPTIONS, 'connect_timeout'].join(', ')}`,
      );
    }
  }
  return out.href;
}

/**
 * One SRT connection: srt-live-transmit in caller or listener mode as the URL says, once (no
 * reconnect of its own: the session loop reconnects), its stdout the stream's payload.
 */
export function srtConnection(program: string, source: SourceRef): Readable {
  const uri = srtTransmitUri(source.input);
  const passphrase = new URL(source.input).searchParams.get('passphrase');
  const run = dyingWithParent(program, ['-a:no', '-q', '-loglevel:error', uri, 'file://con']);
  const child = spawn(run.command, run.args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const out = new PassThrough();
  let lastError = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text: string) => {
    const lines = text.split('\n').filter((l) => l.trim() !== '');
    lastError = lines.at(-1)?.trim() ?? lastError;
  });
  child.stdout.pipe(out, { end: false });
  child.on('error', (err) => out.destroy(new Error(`cannot run srt-live-transmit: ${err.message}`)));
  child.on('close', (code, signal) => {
    if (out.destroyed) return;
    if (code === 0 || signal !== null) out.end();
    else out.destroy(new Error(safe(lastError || `srt-live-transmit exited with code ${code}`, passphrase)));
  });
  out.on('close', () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    // SIGTERM closes the SRT connection cleanly (the peer knows at once); one blocked elsewhere is forced.
    child.kill('SIGTERM');
    const force = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    force.unref();
    child.once('close', () => clearTimeout(force));
  });
  return out;
}

/** A message from the SRT client with its URIs' query values and the passphrase masked. */
function safe(text: string, passphrase: string | null): string {
  const masked = passphrase ? text.split(passphrase).join(REDACTED) : text;
  return redactUrlsIn(masked);
}
