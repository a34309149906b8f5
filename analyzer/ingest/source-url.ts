/**
 * What an INPUT is: a local file or a URL of a supported protocol, whether it is live, and
 * the protocol-specific input options that make ffmpeg give up instead of hanging forever.
 */

import { REDACTED, redactUrl, redactUrlsIn } from './redact-url.js';

export const SUPPORTED_SCHEMES = ['http', 'https', 'rtmp', 'rtmps', 'rtsp', 'rtsps', 'srt', 'udp', 'rtp'] as const;
/** `pipe`: media the analyzer hands ffmpeg on its stdin (HLS segments its own client fetched), never an INPUT. */
export type SourceScheme = (typeof SUPPORTED_SCHEMES)[number] | 'file' | 'pipe';

export interface SourceRef {
  /** As given by the user; never logged when it carries credentials (see `display`). */
  readonly input: string;
  readonly scheme: SourceScheme;
  /** The input with its userinfo and every query value masked (redactUrl), safe for logs, metrics and status. */
  readonly display: string;
  /** Live sources are paced by real time, may stall and are reconnected. */
  readonly live: boolean;
  /** A `pipe` the analyzer fills from a source it reads itself (transport/tapped-feed.ts): that source's scheme. */
  readonly origin?: SourceScheme;
}

export class SourceError extends Error {}

export function parseSource(input: string, forceLive?: boolean): SourceRef {
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(input);
  if (!m) {
    if (input.length === 0) throw new SourceError('INPUT is empty: give a file path or a URL');
    return { input, scheme: 'file', display: input, live: forceLive ?? false };
  }
  const scheme = (m[1] ?? '').toLowerCase();
  if (scheme === 'file') {
    const path = decodeURIComponent(input.slice('file://'.length));
    return { input: path, scheme: 'file', display: path, live: forceLive ?? false };
  }
  if (!(SUPPORTED_SCHEMES as readonly string[]).includes(scheme)) {
    throw new SourceError(
      `INPUT scheme "${scheme}" is not supported; allowed: file path, ${SUPPORTED_SCHEMES.join(', ')}`,
    );
  }
  // Signed CDN URLs carry their grant in the query (token, sig, X-Amz-Signature, hdnts...):
  // only ffmpeg's argument keeps it; everything a person or a scraper reads gets the masked form.
  const display = redactUrl(input);
  try {
    new URL(input);
  } catch {
    throw new SourceError(`INPUT "${display}" is not a valid URL`);
  }
  // http(s) may be a finite download or a live HLS playlist; the probe decides (see pipeline).
  return {
    input,
    scheme: scheme as SourceScheme,
    display,
    live: forceLive ?? (scheme !== 'http' && scheme !== 'https'),
  };
}

/**
 * The ffmpeg protocols each scheme needs, and no more: nothing a source serves (a playlist, a
 * manifest, a redirect) can make ffprobe or ffmpeg open another kind of input, such as a local
 * file, concat:, subfile:, pipe: or a unix socket. The reasons for the less obvious entries:
 * crypto decrypts AES-128 HLS; httpproxy is how ffmpeg reaches https through a proxy; a
 * plain-http playlist may list https segments, but an https one never plain http (no
 * downgrade to cleartext); RTSP's demuxer opens tcp for its control connection and rtp/udp
 * (tls for rtsps) for the media itself.
 */
const PROTOCOLS: Record<SourceScheme, string> = {
  file: 'file,crypto',
  pipe: 'pipe',
  http: 'http,https,tls,tcp,crypto,httpproxy',
  https: 'https,tls,tcp,crypto,httpproxy',
  rtmp: 'rtmp,tcp',
  rtmps: 'rtmps,tls,tcp',
  rtsp: 'tcp,udp,rtp',
  rtsps: 'tls,tcp,udp,rtp',
  srt: 'srt',
  udp: 'udp',
  rtp: 'rtp,udp',
};

/**
 * ffmpeg's own reading of a path: a name that starts with protocol characters and a colon
 * (or `subfile,...:`) is opened with that protocol, not as a file. Mirrors url_find_protocol.
 */
const FFMPEG_PROTOCOL_PREFIX = /^([A-Za-z0-9+.-]+):|^(subfile),.*:/;

/**
 * A file INPUT that ffmpeg would open as a protocol (`concat:a.ts|b.ts`, `pipe:0`,
 * `subfile,,...:x`) is refused: only a file path or a URL of a supported scheme is an input.
 */
export function assertPlainFile(source: SourceRef): SourceRef {
  const m = source.scheme === 'file' ? FFMPEG_PROTOCOL_PREFIX.exec(source.input) : null;
  // `file:PATH` is ffmpeg's explicit file: it opens PATH as it is.
  if (m && m[1] !== 'file') {
    throw new SourceError(
      `INPUT "${source.display}" names ffmpeg's "${m[1] ?? m[2]}" protocol, which is not allowed: give a file path ` +
        `(./${source.display} for a file of that name) or a URL (${SUPPORTED_SCHEMES.join(', ')})`,
    );
  }
  return source;
}

/**
 * ffmpeg input options for a source: the protocols it may use, and the timeouts that make a
 * dead network source end ffmpeg with an error within `timeoutSeconds` instead of waiting
 * forever (the analyzer then reconnects).
 */
export function networkInputOptions(source: SourceRef, timeoutSeconds: number): string[] {
  return ['-protocol_whitelist', PROTOCOLS[source.scheme], ...timeoutOptions(source, timeoutSeconds)];
}

function timeoutOptions(source: SourceRef, timeoutSeconds: number): string[] {
  const us = String(Math.round(timeoutSeconds * 1e6));
  switch (source.scheme) {
    case 'file':
    case 'pipe':
      return [];
    case 'udp':
    case 'rtp':
      // udp's `timeout` raises an error when no datagram arrives for that long.
      return ['-timeout', us];
    case 'rtsp':
    case 'rtsps':
      return ['-timeout', us];
    case 'srt':
      return ['-timeout', us];
    case 'http':
    case 'https':
      return ['-rw_timeout', us, '-reconnect', '0'];
    default:
      return ['-rw_timeout', us];
  }
}

export interface SourceCredentials {
  username?: string;
  password?: string;
}

/**
 * Credentials kept out of the URL (the operator mounts them from a Secret as
 * STREAMQC_SOURCE_USERNAME / STREAMQC_SOURCE_PASSWORD) are put into the input ffmpeg
 * opens, never into `display`: logs, metrics and status stay credential-free. URL
 * credentials given on the command line win. SRT takes the password as its passphrase.
 */
export function withCredentials(source: SourceRef, credentials: SourceCredentials): SourceRef {
  const { username, password } = credentials;
  if (source.scheme === 'file' || (!username && !password)) return source;
  const url = new URL(source.input);
  if (source.scheme === 'srt') {
    if (password && !url.searchParams.has('passphrase')) url.searchParams.set('passphrase', password);
  } else if (!url.username && !url.password) {
    if (username) url.username = encodeURIComponent(username);
    if (password) url.password = encodeURIComponent(password);
  }
  return { ...source, input: url.toString() };
}

/**
 * Text from ffmpeg with the input replaced by its display form, any secret masked, and the
 * userinfo and query values of every other URL in it masked too: ffmpeg prints segment and
 * redirect URLs (which carry the same signed token) and may print the input re-encoded.
 */
export function redact(text: string, source: SourceRef, credentials: SourceCredentials = {}): string {
  let out = source.input === source.display ? text : text.split(source.input).join(source.display);
  for (const secret of [credentials.password, credentials.password && encodeURIComponent(credentials.password)]) {
    if (secret) out = out.split(secret).join(REDACTED);
  }
  return redactUrlsIn(out);
}

export function credentialsFromEnv(env: NodeJS.ProcessEnv = process.env): SourceCredentials {
  // An empty variable is unset (as Kubernetes writes an optional secret key that is missing).
  const set = (value: string | undefined): string | undefined => (value === '' ? undefined : value);
  return { username: set(env.STREAMQC_SOURCE_USERNAME), password: set(env.STREAMQC_SOURCE_PASSWORD) };
}

/**
 * The URL without its userinfo (fetch refuses credentials in a URL) and the Basic
 * authorization they make, sent only to the source's own origin (never to a CDN the
 * playlist points at).
 */
export function credentialsApart(input: string): { url: string; authorization?: { origin: string; header: string } } {
  const url = new URL(input);
  if (!url.username && !url.password) return { url: input };
  const user = decodeURIComponent(url.username);
  const password = decodeURIComponent(url.password);
  url.username = '';
  url.password = '';
  const header = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  return { url: url.href, authorization: { origin: url.origin, header } };
}
