/**
 * The metric names streamqc exports (analyzer and operator registries, histograms with their
 * series suffixes) and the ones a query or rules file names. The dashboard test's Prometheus
 * scrapes one analyzer only, so a misspelt operator metric would just be an empty panel there.
 */
import { AnalyzerMetrics } from '../../analyzer/report/metrics.js';
import { OperatorMetrics } from '../../operator/metrics.js';
import { DeliveryMetrics } from '../../analyzer/report/delivery-metrics.js';

export async function exportedMetricNames(): Promise<Set<string>> {
  const analyzer = new AnalyzerMetrics('names').registry;
  // The delivery metrics join the analyzer's registry only on an HLS source (analyzer/pipeline.ts).
  new DeliveryMetrics(analyzer);
  const registries = [analyzer, new OperatorMetrics(() => 0).registry];
  const names = new Set<string>();
  for (const registry of registries) {
    // From the exposition's TYPE lines: what a scrape declares, labelled series observed or not.
    for (const [, name, type] of (await registry.metrics()).matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
      const suffixes = type === 'histogram' ? ['_bucket', '_sum', '_count'] : [''];
      for (const suffix of suffixes) names.add(`${name}${suffix}`);
    }
  }
  return names;
}

/** `streamqc_*` names in PromQL or a rules file; a label such as `streamqc_component=` is not one. */
export function metricNamesIn(text: string): string[] {
  return [...new Set(text.match(/\bstreamqc_[a-z0-9_]+\b(?!\s*[=!]~?)/g) ?? [])];
}
