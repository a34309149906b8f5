/** Reads the shipped Grafana dashboard and lists every panel query, for checks against Prometheus. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const DASHBOARD_PATH = fileURLToPath(
  new URL('../../../helm/streamqc/dashboards/streamqc.json', import.meta.url),
);

interface Target {
  expr: string;
  refId: string;
}
interface Panel {
  title: string;
  type: string;
  targets?: Target[];
  panels?: Panel[];
  /** Our marker (ignored by Grafana): the panel must return data on a live analyzer. */
  description?: string;
}

export interface PanelQuery {
  panel: string;
  expr: string;
  core: boolean;
}

export function dashboardQueries(): PanelQuery[] {
  const dashboard = JSON.parse(readFileSync(DASHBOARD_PATH, 'utf8')) as { panels: Panel[] };
  const out: PanelQuery[] = [];
  const walk = (panels: Panel[]): void => {
    for (const p of panels) {
      for (const t of p.targets ?? [])
        out.push({ panel: p.title, expr: t.expr, core: (p.description ?? '').includes('[core]') });
      if (p.panels) walk(p.panels);
    }
  };
  walk(dashboard.panels);
  return out;
}

/** Grafana's variables replaced the way Grafana would for one stream. */
export function expand(expr: string, stream: string): string {
  return expr
    .replaceAll('$__rate_interval', '1m')
    .replaceAll('$__interval', '15s')
    .replaceAll('$__range', '1h')
    .replaceAll('$namespace', '.*')
    .replaceAll('$stream', stream);
}
