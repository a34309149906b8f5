/**
 * The analyzer's one HTTP port: /metrics (Prometheus text), /status (JSON), /healthz (the
 * process is alive) and /readyz (media is flowing). Read-only; nothing here changes state.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HttpSources {
  metrics(): Promise<string>;
  metricsContentType: string;
  status(): unknown;
  ready(): boolean;
}

export class AnalyzerHttpServer {
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
            (err: Error) => send(500, 'text/plain', `metrics unavailable: ${err.message}\n`),
          );
          return;
        case '/status':
          send(200, 'application/json', JSON.stringify(this.sources.status()));
          return;
        case '/healthz':
          send(200, 'text/plain', 'ok\n');
          return;
        case '/readyz':
          if (this.sources.ready()) send(200, 'text/plain', 'ready\n');
          else send(503, 'text/plain', 'no media flowing\n');
          return;
        default:
          send(404, 'text/plain', 'not found: try /metrics, /status, /healthz, /readyz\n');
      }
    });
    this.server.keepAliveTimeout = 5000;
  }

  /** Listen; resolves with the bound port (useful with port 0). */
  listen(port: number, host: string): Promise<number> {
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
