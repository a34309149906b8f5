/**
 * prom-client's metric classes, loaded without its index. The index also loads what the
 * analyzer never uses: the default process metrics (and with them @opentelemetry/api, 51
 * files), the push gateway and the cluster aggregator. require('prom-client') costs about
 * 0.10 CPU s, these four modules 0.01 s: a tenth of node's share of a 30 s clip's analysis.
 * The paths are prom-client 15's (pinned in package.json); the operator, which collects the
 * default metrics, imports the index and gets these same classes.
 */
import { createRequire } from 'node:module';
import type * as PromClient from 'prom-client';

const requireModule = createRequire(import.meta.url);

export const Registry = requireModule('prom-client/lib/registry') as typeof PromClient.Registry;
export type Registry = PromClient.Registry;
export const Counter = requireModule('prom-client/lib/counter') as typeof PromClient.Counter;
export type Counter<T extends string = string> = PromClient.Counter<T>;
export const Gauge = requireModule('prom-client/lib/gauge') as typeof PromClient.Gauge;
export type Gauge<T extends string = string> = PromClient.Gauge<T>;
export const Histogram = requireModule('prom-client/lib/histogram') as typeof PromClient.Histogram;
export type Histogram<T extends string = string> = PromClient.Histogram<T>;
export type { GaugeConfiguration } from 'prom-client';
