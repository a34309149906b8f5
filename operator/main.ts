/**
 * The operator process: flags and environment, the controller, /metrics /healthz /readyz,
 * and a clean stop on SIGTERM or SIGINT.
 *
 *   node dist/operator/main.js [--namespaces a,b | env STREAMQC_WATCH_NAMESPACES] [--http-port 8080]
 *     [--concurrency 16] [--resync-seconds 300] [--poll-seconds 15] [--kubeconfig FILE]
 *     [--leader-elect --lease-namespace NS --lease-name streamqc-operator --lease-duration-seconds 15]
 *     [--heap-growing-percent 25 | env STREAMQC_HEAP_GROWING_PERCENT]
 *
 * No namespaces: the whole cluster. Without --kubeconfig: $KUBECONFIG, ~/.kube/config, or the
 * in-cluster service account.
 */
import { analyzerDefaultsFromEnv, type AnalyzerDefaults } from './analyzer-pod.js';
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { KubeConfig } from '@kubernetes/client-node';
import { destination, pino } from 'pino';
import { logLevelFromEnv, type LogLevel } from '../analyzer/report/log.js';
import { ProbeServer } from '../analyzer/report/http.js';
import { UsageError } from '../analyzer/usage-error.js';
import { collectDefaultMetrics } from 'prom-client';
import { analyzerStatusReader } from './analyzer-status.js';
import { withConnectionReuse } from './connection-reuse.js';
import { StreamMonitorController } from './controller.js';
import { LeaderElector } from './leader.js';
import { systemClock } from './clock.js';
import { withUserAgent } from './user-agent.js';

interface Settings {
  namespaces: string[];
  httpPort: number;
  concurrency: number;
  resyncMs: number;
  pollMs: number;
  kubeconfig: string | undefined;
  leaderElect: boolean;
  leaseNamespace: string;
  leaseName: string;
  leaseDurationMs: number;
  heapGrowingPercent: number;
  /** From STREAMQC_LOG_LEVEL; a name pino does not know is a usage error, not pino's stack trace. */
  logLevel: LogLevel;
}

/**
 * How far V8 lets the old generation grow past what the last full GC kept before it collects
 * again. Left to itself V8 grows it by up to 4x when GC looks cheap. With 5,000 monitors the
 * live heap is about 60 MiB, but a burst of reconciles promotes its garbage (request and
 * response objects alive across a slow API call), and with V8's default the heap reached
 * 140 MiB and RSS 286 MiB before a full GC, over the chart's 256 MiB limit. Measured on the
 * same 5,000-monitor run: default 286 MiB and 41.5 CPU-s; 50 % 217 MiB and 41.4 CPU-s; 25 %
 * 201 MiB and 43.4 CPU-s. 0 leaves V8's own heuristics.
 */
const DEFAULT_HEAP_GROWING_PERCENT = 25;

function positive(name: string, value: string, allowZero = false): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || (!allowZero && n === 0)) {
    throw new UsageError(
      `--${name}: ${JSON.stringify(value)} is not a ${allowZero ? 'non-negative' : 'positive'} number`,
    );
  }
  return n;
}

export function parseSettings(argv: string[], env: NodeJS.ProcessEnv): Settings {
  const { values } = parseArgs({
    args: argv,
    options: {
      namespaces: { type: 'string', default: env.STREAMQC_WATCH_NAMESPACES ?? '' },
      'http-port': { type: 'string', default: env.STREAMQC_HTTP_PORT ?? '8080' },
      concurrency: { type: 'string', default: env.STREAMQC_CONCURRENCY ?? '16' },
      'resync-seconds': { type: 'string', default: '300' },
      'poll-seconds': { type: 'string', default: '15' },
      kubeconfig: { type: 'string' },
      'leader-elect': { type: 'boolean', default: env.STREAMQC_LEADER_ELECT === 'true' },
      'lease-namespace': { type: 'string', default: env.POD_NAMESPACE ?? 'default' },
      'lease-name': { type: 'string', default: 'streamqc-operator' },
      'lease-duration-seconds': { type: 'string', default: '15' },
      'heap-growing-percent': {
        type: 'string',
        default: env.STREAMQC_HEAP_GROWING_PERCENT ?? String(DEFAULT_HEAP_GROWING_PERCENT),
      },
    },
    strict: true,
  });
  const port = positive('http-port', values['http-port'], true);
  if (!Number.isInteger(port) || port > 65535) throw new UsageError(`--http-port: ${port} is not a port (0..65535)`);
  return {
    namespaces: values.namespaces
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0),
    httpPort: port,
    concurrency: Math.floor(positive('concurrency', values.concurrency)),
    resyncMs: positive('resync-seconds', values['resync-seconds']) * 1000,
    pollMs: positive('poll-seconds', values['poll-seconds'], true) * 1000,
    kubeconfig: values.kubeconfig,
    leaderElect: values['leader-elect'],
    leaseNamespace: values['lease-namespace'],
    leaseName: values['lease-name'],
    leaseDurationMs: positive('lease-duration-seconds', values['lease-duration-seconds']) * 1000,
    heapGrowingPercent: Math.floor(positive('heap-growing-percent', values['heap-growing-percent'], true)),
    logLevel: logLevelFromEnv(env, 'info'),
  };
}

async function main(): Promise<void> {
  let settings: Settings;
  let analyzerDefaults: AnalyzerDefaults;
  try {
    settings = parseSettings(process.argv.slice(2), process.env);
    analyzerDefaults = analyzerDefaultsFromEnv(process.env);
  } catch (err) {
    // A JSON line like every other the operator writes, on stderr where a usage error belongs.
    pino({ name: 'streamqc-operator', base: undefined }, destination({ fd: 2, sync: true })).error(
      { exitCode: 2 },
      err instanceof Error ? err.message : String(err),
    );
    process.exit(2);
  }
  const log = pino({ name: 'streamqc-operator', level: settings.logLevel, base: undefined });
  // Read by V8 whenever it sizes the heap after a full GC, so it applies from here on.
  if (settings.heapGrowingPercent > 0) setFlagsFromString(`--heap-growing-percent=${settings.heapGrowingPercent}`);
  const kubeConfig = new KubeConfig();
  if (settings.kubeconfig) kubeConfig.loadFromFile(settings.kubeconfig);
  else kubeConfig.loadFromDefault();
  withUserAgent(withConnectionReuse(kubeConfig));
  const controller = new StreamMonitorController({
    kubeConfig,
    logger: {
      debug: (m) => log.debug(m),
      info: (m) => log.info(m),
      warn: (m) => log.warn(m),
      error: (m) => log.error(m),
    },
    namespaces: settings.namespaces,
    concurrency: settings.concurrency,
    resyncMs: settings.resyncMs,
    pollIntervalMs: settings.pollMs,
    fetchAnalyzerStatus: analyzerStatusReader(2_000),
    analyzerDefaults,
    clock: systemClock,
  });
  // The process's own figures (resident memory, heap by space, GC pauses, event-loop lag) next
  // to the controller's: what to look at when the operator comes near its memory limit.
  collectDefaultMetrics({ register: controller.metrics.registry });
  const elector = settings.leaderElect
    ? new LeaderElector({
        kubeConfig,
        namespace: settings.leaseNamespace,
        name: settings.leaseName,
        identity: process.env.POD_NAME ?? `${hostname()}-${process.pid}`,
        leaseDurationMs: settings.leaseDurationMs,
        renewDeadlineMs: settings.leaseDurationMs * (2 / 3),
        retryPeriodMs: Math.max(500, settings.leaseDurationMs / 7.5),
        log: (m) => log.info(m),
        clock: systemClock,
      })
    : undefined;
  // A standby replica is healthy and ready: it is waiting for the lease, as it should.
  const server = new ProbeServer({
    metrics: () => controller.metrics.registry.metrics(),
    metricsContentType: controller.metrics.registry.contentType,
    ready: () => (elector !== undefined && !elector.isLeader) || controller.ready,
    notReady: 'watches not open',
  });
  await server.listen(settings.httpPort);
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info(`${signal}: stopping`);
    void controller
      .shutdown()
      .then(() => elector?.stop())
      .then(() => {
        void server.close().then(() => process.exit(0));
      });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  if (elector === undefined) {
    controller.metrics.leader.set(1);
    await controller.start();
  } else {
    void elector.run(
      () => {
        controller.metrics.leader.set(1);
        void controller.start();
      },
      () => {
        // Another replica may already reconcile: stop at once and let the pod restart as a standby.
        log.error('lost the leader lease; exiting');
        process.exit(1);
      },
    );
  }
  log.info(
    { namespaces: settings.namespaces.length > 0 ? settings.namespaces : 'all', port: settings.httpPort },
    'operator running',
  );
}

if (import.meta.url === `file://${process.argv[1]}`) void main();
