/**
 * Whether an HTTP source is an HLS playlist or a DASH MPD, decided as a player decides it: by
 * the path when it names one (.m3u8/.m3u, RFC 8216 section 4; .mpd, ISO/IEC 23009-1 annex C),
 * otherwise by the answer's Content-Type (application/vnd.apple.mpegurl or audio/mpegurl, RFC
 * 8216 section 4; application/dash+xml, annex C) and, when that says neither (a server that
 * sends text/plain or application/octet-stream), by the first bytes: `#EXTM3U` or an `<MPD>`
 * root element. A path that names media (.ts, .mp4, ...) is never looked at: ffmpeg and the
 * transport checks read it.
 */
import type { SourceRef } from '../ingest/source-url.js';

export type ManifestKind = 'hls' | 'dash';

/** Bytes read to tell a manifest by its start: an XML declaration and a comment or two before `<MPD`. */
export const SNIFF_BYTES = 1024;

const HLS_TYPES = new Set([
  'application/vnd.apple.mpegurl',
  'application/x-mpegurl',
  'audio/mpegurl',
  'audio/x-mpegurl',
]);
const DASH_TYPES = new Set(['application/dash+xml']);
/** Paths that name media rather than a manifest. */
const MEDIA_PATH = /\.(ts|mts|m2ts|mp4|m4v|m4a|m4s|mov|mkv|webm|flv|aac|mp3|ac3|eac3|wav|mpg|mpeg|y4m|nut)$/i;

function pathOf(source: SourceRef): string | null {
  if (source.scheme !== 'http' && source.scheme !== 'https') return null;
  return new URL(source.input).pathname;
}

/** A DASH MPD by its path (ISO/IEC 23009-1 annex C: the .mpd extension). */
export function isDashUrl(source: SourceRef): boolean {
  return /\.mpd$/i.test(pathOf(source) ?? '');
}

/** An HLS playlist by its path (RFC 8216 section 4: a playlist's path ends in .m3u8 or .m3u). */
export function isHlsUrl(source: SourceRef): boolean {
  return /\.m3u8?$/i.test(pathOf(source) ?? '');
}

/**
 * Whether the analyzer's own HLS/DASH client takes the source: `delivery.enabled` and an http(s)
 * URL whose path does not name media (only its answer can tell the rest).
 */
export function deliveryTakes(enabled: boolean, source: SourceRef): boolean {
  return enabled && kindByPath(source) !== 'media';
}

/** What the path says: a manifest kind, `media` (never a manifest), or null (only the answer can tell). */
export function kindByPath(source: SourceRef): ManifestKind | 'media' | null {
  const path = pathOf(source);
  if (path === null || MEDIA_PATH.test(path)) return 'media';
  return isHlsUrl(source) ? 'hls' : isDashUrl(source) ? 'dash' : null;
}

/** What an answer is by its Content-Type (without parameters), then by its first bytes; null: neither. */
export function kindByAnswer(contentType: string | null, head: Buffer): ManifestKind | null {
  if (contentType !== null && HLS_TYPES.has(contentType)) return 'hls';
  if (contentType !== null && DASH_TYPES.has(contentType)) return 'dash';
  const text = head
    .toString('utf8')
    .replace(/^\uFEFF/, '')
    .trimStart();
  if (text.startsWith('#EXTM3U')) return 'hls';
  // The root element, after an XML declaration, comments or a doctype; with or without a namespace prefix.
  if (/^(?:<\?[^>]*\?>\s*|<!--[\s\S]*?-->\s*|<![^>]*>\s*)*<(?:[\w.-]+:)?MPD[\s>/]/.test(text)) return 'dash';
  return null;
}

/** The start of an answer for a message: printable ASCII, at most 40 characters. */
export function preview(head: Buffer): string {
  const text = head.subarray(0, 40).toString('latin1');
  return JSON.stringify(text.replace(/[^\x20-\x7e]/g, '.'));
}
