/**
 * The one HTTP port of a streamqc process, the analyzer's and the operator's alike: /metrics
 * (Prometheus text), /healthz (the process is alive), /readyz (it does its job: media flows,
 * or the operator's watches are open) and, for the analyzer, /status (JSON). GET and HEAD only;
 * read-only, nothing here changes state.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HttpSources {
  metrics(): Promise<string>;
  metricsContentType: string;
  /** The analyzer's /status document; without it /status is not served. */
  status?: () => unknown;
  ready(): boolean;
  /** The body of a 503 from /readyz: what is not ready yet. */
  notReady?: string;
}

export class ProbeServer {
  private readonly server: Server;

  constructor(private readonly sources: HttpSources) {
    this.server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' }).end();
        return;
      }
      const send = (code: number, type: string, body: string): void => {
        res.writeHead(code, { 'content-type': type, 'cache-control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : body);
      };
      switch (path) {
        case '/metrics':
          this.sources.metrics().then(
            (text) => send(200, this.sources.metricsContentType, text),
            (err: unknown) =>
              send(500, 'text/plain', `metrics unavailable: ${err instanceof Error ? err.message : String(err)}\n`),
          );
          return;
        case '/status':
          if (this.sources.status) send(200, 'application/json', JSON.stringify(this.sources.status()));
          else send(404, 'text/plain', this.notFound);
          return;
        case '/healthz':
          send(200, 'text/plain', 'ok\n');
          return;
        case '/readyz':
          if (this.sources.ready()) send(200, 'text/plain', 'ready\n');
          else send(503, 'text/plain', `${this.sources.notReady ?? 'not ready'}\n`);
          return;
        default:
          send(404, 'text/plain', this.notFound);
      }
    });
    this.server.keepAliveTimeout = 5000;
  }

  private get notFound(): string {
    return `not found: try /metrics, ${this.sources.status ? '/status, ' : ''}/healthz, /readyz\n`;
  }

  /** Listen; resolves with the bound port (useful with port 0). */
  listen(port: number, host?: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve((this.server.address() as AddressInfo).port);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
