/**
 * The Grafana dashboard against the real thing: a live analyzer (UDP source on loopback,
 * a black defect on schedule) scraped by a real Prometheus (Debian's), and every panel's
 * query sent to it. Each must parse and evaluate; the core panels must return data.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freeUdpPort } from '../../analyzer/demo.js';
import { syntheticStreamArgs } from '../../analyzer/synthetic-source.js';
import { startCli } from '../analyzer/run-cli.js';
import { dashboardQueries, expand } from './dashboard.js';
import { exportedMetricNames, metricNamesIn } from './exported-metrics.js';
import { freeTcpPort } from '../net.js';

interface QueryResult {
  status: string;
  error?: string;
  data?: { resultType: string; result: unknown[] };
}

async function query(port: number, expr: string): Promise<QueryResult> {
  const res = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(expr)}`);
  return (await res.json()) as QueryResult;
}

async function stop(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  p.kill('SIGTERM');
  const timer = setTimeout(() => p.kill('SIGKILL'), 5000);
  await new Promise((r) => p.once('close', r));
  clearTimeout(timer);
}

test(
  'every dashboard query runs on a real Prometheus scraping a live analyzer; core panels have data',
  { timeout: 150_000 },
  async (t) => {
    const queries = dashboardQueries();
    assert.ok(queries.length >= 20, `the dashboard has its panels (${queries.length} queries)`);
    const dir = mkdtempSync(join(tmpdir(), 'streamqc-prom-'));
    const udp = await freeUdpPort();
    const metricsPort = await freeTcpPort();
    const promPort = await freeTcpPort();
    const url = `udp://127.0.0.1:${udp}?pkt_size=1316`;
    const sender = spawn(
      'ffmpeg',
      syntheticStreamArgs({
        width: 320,
        height: 180,
        fps: 25,
        duration: null,
        realtime: true,
        schedule: [{ type: 'black', start: 8, end: 600 }],
        output: url,
      }),
      { stdio: 'ignore' },
    );
    const config = join(dir, 'analyzer.yaml');
    writeFileSync(config, `stream: dash-test\nlistenAddress: 127.0.0.1\nhttp: { port: ${metricsPort} }\n`);
    const analyzer = startCli(['analyze', url, '--config', config]);
    writeFileSync(
      join(dir, 'prometheus.yml'),
      [
        'global: { scrape_interval: 1s, evaluation_interval: 1s }',
        'scrape_configs:',
        '  - job_name: streamqc-analyzer',
        '    static_configs:',
        `      - targets: ['127.0.0.1:${metricsPort}']`,
        '        labels: { namespace: media, streamqc_component: analyzer }',
        '',
      ].join('\n'),
    );
    const prometheus = spawn(
      'prometheus',
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
        '--log.level=warn',
      ],
      { stdio: 'ignore' },
    );
    try {
      // Wait until the black defect is active in Prometheus: the stream is up and analysed.
      const end = Date.now() + 90_000;
      for (;;) {
        const r = await query(promPort, 'streamqc_defect_active{stream="dash-test",type="black"} == 1').catch(
          () => null,
        );
        if (r?.status === 'success' && (r.data?.result.length ?? 0) > 0) break;
        if (Date.now() > end) throw new Error('Prometheus never saw the analyzer report black');
        await sleep(1000);
      }
      await sleep(5000); // a few more scrapes for rate() windows
      const empty: string[] = [];
      for (const q of queries) {
        const expr = expand(q.expr, 'dash-test');
        const r = await query(promPort, expr);
        assert.equal(r.status, 'success', `${q.panel}: ${expr}: ${r.error ?? ''}`);
        if (q.core && (r.data?.result.length ?? 0) === 0) empty.push(`${q.panel}: ${expr}`);
      }
      assert.deepEqual(empty, [], 'core panels return data');
      const fleet = await query(
        promPort,
        expand('sum by (type) (streamqc_defect_active{namespace=~"$namespace"})', ''),
      );
      const black = (fleet.data?.result as { metric: { type: string }; value: [number, string] }[]).find(
        (s) => s.metric.type === 'black',
      );
      assert.equal(black?.value[1], '1', 'the fleet view counts the active black defect');
      t.diagnostic(`${queries.length} queries checked, ${queries.filter((q) => q.core).length} core`);
    } finally {
      await stop(analyzer.child);
      await stop(prometheus);
      sender.kill('SIGKILL');
    }
  },
);

test('every metric a dashboard query names is one the analyzer or the operator exports', async () => {
  const exported = await exportedMetricNames();
  const unknown = dashboardQueries().flatMap((q) =>
    metricNamesIn(q.expr)
      .filter((name) => !exported.has(name))
      .map((name) => `${q.panel}: ${name}`),
  );
  assert.deepEqual(unknown, []);
});
