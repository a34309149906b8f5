/**
 * Reads kube-apiserver's audit log (JSON lines, the write requests TestCluster's policy keeps)
 * so that a test or benchmark can count the writes one client sent, by its user agent: the
 * request metrics count every client together.
 */
import { existsSync, readFileSync } from 'node:fs';

export interface AuditedWrite {
  verb: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
  userAgent: string;
  code?: number;
  /** When the API server received the request. */
  at: Date;
}

interface AuditEvent {
  stage?: string;
  verb?: string;
  userAgent?: string;
  requestReceivedTimestamp?: string;
  objectRef?: { resource?: string; subresource?: string; namespace?: string; name?: string };
  responseStatus?: { code?: number };
}

export interface AuditFilter {
  /** Only requests whose User-Agent starts with this. */
  userAgentPrefix?: string;
  /** Only requests received at or after this instant, and before `until`. */
  since?: Date;
  until?: Date;
}

export function auditedWrites(path: string, filter: AuditFilter = {}): AuditedWrite[] {
  if (!existsSync(path))
    throw new Error(`no audit log at ${path}: is the API server started with TestCluster's audit policy?`);
  const writes: AuditedWrite[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    const event = JSON.parse(line) as AuditEvent;
    if (event.stage !== 'ResponseComplete' || !event.verb || !event.requestReceivedTimestamp) continue;
    const at = new Date(event.requestReceivedTimestamp);
    const userAgent = event.userAgent ?? '';
    if (filter.userAgentPrefix !== undefined && !userAgent.startsWith(filter.userAgentPrefix)) continue;
    if (filter.since && at < filter.since) continue;
    if (filter.until && at >= filter.until) continue;
    writes.push({
      verb: event.verb,
      resource: event.objectRef?.resource ?? '',
      subresource: event.objectRef?.subresource,
      namespace: event.objectRef?.namespace,
      name: event.objectRef?.name,
      userAgent,
      code: event.responseStatus?.code,
      at,
    });
  }
  return writes;
}
