/**
 * The StreamMonitor API as TypeScript types. The CRD in crds/ is the authority; a unit test
 * walks every field of these types against the CRD schema and fails when they drift.
 */
import type { V1Affinity, V1Toleration } from '@kubernetes/client-node';
import type { AnalyzerConfig } from '../analyzer/config.js';
import type { DetectorsConfig } from '../analyzer/detectors/index.js';

export const API_GROUP = 'streamqc.io';
export const API_VERSION = 'v1alpha1';
export const KIND = 'StreamMonitor';
export const PLURAL = 'streammonitors';

export const ALLOWED_SCHEMES = ['http', 'https', 'rtmp', 'rtmps', 'rtsp', 'rtsps', 'srt', 'udp', 'rtp'] as const;
export const PHASES = ['Pending', 'Starting', 'Running', 'Degraded', 'Failed', 'Suspended'] as const;
export type Phase = (typeof PHASES)[number];

export interface SecretCredentialsRef {
  name: string;
  usernameKey?: string;
  passwordKey?: string;
}

export interface ModelSpec {
  name: string;
  configMapRef: { name: string; key: string };
  input: {
    name?: string;
    width: number;
    height: number;
    layout?: 'NCHW' | 'NHWC';
    channels?: 1 | 3;
    scale?: number;
    mean?: number;
    std?: number;
  };
  output?: { name?: string; index?: number };
  defect: { type: string; threshold: number; above?: boolean; minDuration?: number };
}

export type ResourceQuantities = Record<string, string | number>;

export interface StreamMonitorSpec {
  source: { url: string; live?: boolean; credentialsSecretRef?: SecretCredentialsRef };
  stream?: string;
  /** Defaulted in full by the API server; partial when read from a client-side manifest. */
  detectors?: Partial<{ [T in keyof DetectorsConfig]: Partial<DetectorsConfig[T]> }>;
  ingest?: Partial<AnalyzerConfig['ingest']>;
  analysis?: Partial<Omit<AnalyzerConfig['analysis'], 'gpu'>>;
  delivery?: Partial<AnalyzerConfig['delivery']>;
  models?: ModelSpec[];
  image?: string;
  resources?: { limits?: ResourceQuantities; requests?: ResourceQuantities };
  gpu?: number;
  nodeSelector?: Record<string, string>;
  tolerations?: V1Toleration[];
  affinity?: V1Affinity;
  priorityClassName?: string;
  runtimeClassName?: string;
  suspend?: boolean;
}

/** metav1.Condition */
export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

export interface StreamMonitorStatus {
  phase?: Phase;
  observedGeneration?: number;
  conditions?: Condition[];
  analyzer?: {
    pod?: string;
    node?: string;
    podIP?: string;
    startTime?: string;
    restarts?: number;
    configHash?: string;
  };
  stream?: {
    videoCodec?: string;
    audioCodec?: string;
    resolution?: string;
    frameRate?: number;
    audioLayout?: string;
    bitrate?: number;
  };
  defects?: { active?: string[]; last?: { type?: string; wallclock?: string }; counts?: Record<string, number> };
  /** An HLS source followed by the analyzer's own client: its ladder (operator/status.ts deliveryFacts). */
  delivery?: {
    rendition?: string;
    declared?: number;
    alive?: number;
    /** `alive/declared`, for the Renditions printer column. */
    summary?: string;
    renditions?: LadderRendition[];
  };
  /** The analyzer's signal events (PIDs that came or went, cues): how many so far, and the last few. */
  signals?: { count?: number; recent?: { type?: string; wallclock?: string; message?: string }[] };
}

export interface LadderRendition {
  name?: string;
  bandwidth?: number;
  resolution?: string;
  alive?: boolean;
  /** false: the multivariant playlist no longer lists it (absent: listed). */
  listed?: boolean;
  /** Wall-clock time since which a rendition that is not alive is down. */
  downSince?: string;
  /** The newest delivery defect on this rendition the analyzer still reports (active, or among its recent events). */
  lastError?: { type?: string; since?: string; active?: boolean };
}

export interface StreamMonitor {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace: string;
    uid: string;
    generation?: number;
    resourceVersion: string;
    deletionTimestamp?: string;
    labels?: Record<string, string>;
  };
  spec: StreamMonitorSpec;
  status?: StreamMonitorStatus;
}

/** The work queue key of a monitor: namespace/name. */
export function monitorKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

export function parseMonitorKey(key: string): { namespace: string; name: string } {
  const slash = key.indexOf('/');
  return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}
