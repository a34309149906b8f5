/**
 * Secrets that travel inside URLs, masked for everything a person or another program reads
 * (logs, /status, metrics labels, StreamMonitor conditions and Events): the userinfo
 * (`user:password@`) and every query value. Signed CDN URLs carry their grant in the query
 * (`token`, `sig`, `signature`, `X-Amz-Signature`, `Policy`, `Key-Pair-Id`, `hdnts`, ...) and
 * the names vary by vendor, so every value is masked and the names are kept for debugging.
 * Only the argument handed to ffmpeg keeps the real URL.
 */

export const REDACTED = '***';

/**
 * A URL with a scheme, up to the first character that cannot be part of it in a log line;
 * punctuation that ends a sentence or a clause (`url: error`, `url.`) is left outside it.
 */
const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>`]*[^\s"'<>`:;,.)\]]/gi;

function maskQuery(query: string): string {
  return query
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      if (eq < 0) return pair.length === 0 ? pair : REDACTED; // a bare value may be a token too
      return `${pair.slice(0, eq)}=${REDACTED}`;
    })
    .join('&');
}

/** One URL with its userinfo and query values masked; the fragment is dropped (it may hold a token). */
export function redactUrl(url: string): string {
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(url);
  if (!scheme) return url;
  let rest = url.slice(scheme[0].length);
  const hash = rest.indexOf('#');
  if (hash >= 0) rest = rest.slice(0, hash);
  const q = rest.indexOf('?');
  const beforeQuery = q >= 0 ? rest.slice(0, q) : rest;
  const query = q >= 0 ? rest.slice(q + 1) : null;
  const slash = beforeQuery.indexOf('/');
  const authority = slash >= 0 ? beforeQuery.slice(0, slash) : beforeQuery;
  const path = slash >= 0 ? beforeQuery.slice(slash) : '';
  const at = authority.lastIndexOf('@');
  const host = at >= 0 ? `${REDACTED}@${authority.slice(at + 1)}` : authority;
  return `${scheme[0]}${host}${path}${query === null ? '' : `?${maskQuery(query)}`}`;
}

/** Every URL found in free text (an ffmpeg diagnostic, an error message) redacted. */
export function redactUrlsIn(text: string): string {
  return text.replace(URL_IN_TEXT, (url) => redactUrl(url));
}
