/**
 * Every message the operator writes for people (status conditions, Events, log lines) may
 * carry text it does not control: an analyzer's answer, a spec value, an API server's error
 * echoing one. Secrets travel in URL query strings (signed CDN URLs), and a lying analyzer can
 * send megabytes; so each such message is redacted and bounded here, in one place.
 */
import { redactUrlsIn } from '../analyzer/ingest/redact-url.js';

/** Long enough for a scheduler's or a validation's message; far under the API's limits. */
const MAX_MESSAGE = 1024;

/** `text` with every URL's userinfo and query values masked, cut to `max` characters. */
export function safeMessage(text: string, max = MAX_MESSAGE): string {
  const redacted = redactUrlsIn(text);
  return redacted.length <= max ? redacted : `${redacted.slice(0, max)}...`;
}
