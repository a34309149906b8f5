/**
 * A monitor's status as observed: from its analyzer pod and, when the analyzer answers, from
 * its /status. Pure functions: reconcile compares the result with what is stored and writes
 * only when they differ, so a steady state writes nothing.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { isSignalEvent, type AnalyzerStatus, type SignalEvent } from '../analyzer/contract/status.js';
import type { AnalyzerAnswer, AnalyzerProblem } from './analyzer-status.js';
import type { Condition, Phase, StreamMonitor, StreamMonitorStatus } from './api.js';
import { ANNOTATION_CONFIG_HASH, stableJson } from './analyzer-pod.js';
import { deliveryFacts } from './ladder.js';
import { safeMessage } from './messages.js';

export interface Observation {
  monitor: StreamMonitor;
  /** The analyzer pod of the current config, if one exists. */
  pod: V1Pod | undefined;
  /** Without `pod`: the name of its predecessor, still terminating, which holds the pod's name. */
  terminating?: string;
  /** Set when no analyzer can run: the spec cannot be rendered, or its ConfigMap or Pod name is not ours. */
  blocked?: Blocked;
  /** The analyzer's /status, when it answered with a valid one. */
  analyzer?: AnalyzerStatus;
  /** Why the analyzer's last answer is no answer, when it is not. */
  analyzerProblem?: AnalyzerProblem;
  now: Date;
}

/** Why no analyzer can run for a monitor (also the reason of its Warning Event). */
export interface Blocked {
  reason: 'InvalidConfig' | 'ConfigMapConflict' | 'PodConflict';
  message: string;
}

type ConditionFacts = Omit<Condition, 'lastTransitionTime' | 'observedGeneration'>;

function podCondition(pod: V1Pod, type: string): boolean {
  return pod.status?.conditions?.some((c) => c.type === type && c.status === 'True') ?? false;
}

/** Ready's reason while a new analyzer pod waits for its terminating predecessor's name. */
export const REASON_POD_TERMINATING = 'AnalyzerPodTerminating';

function podPhaseFacts(
  pod: V1Pod | undefined,
  terminating: string | undefined,
): { phase: Phase; ready: ConditionFacts } {
  if (pod === undefined && terminating !== undefined) {
    return {
      phase: 'Pending',
      ready: {
        type: 'Ready',
        status: 'False',
        reason: REASON_POD_TERMINATING,
        message: `analyzer pod ${terminating} is being deleted; a new one follows`,
      },
    };
  }
  if (pod === undefined) {
    return {
      phase: 'Pending',
      ready: {
        type: 'Ready',
        status: 'False',
        reason: 'AnalyzerPodMissing',
        message: 'the analyzer pod is being created',
      },
    };
  }
  const name = pod.metadata?.name ?? '';
  switch (pod.status?.phase) {
    case 'Running':
      return podCondition(pod, 'Ready')
        ? {
            phase: 'Running',
            ready: { type: 'Ready', status: 'True', reason: 'AnalyzerReady', message: `analyzer pod ${name} is ready` },
          }
        : {
            phase: 'Starting',
            ready: {
              type: 'Ready',
              status: 'False',
              reason: 'AnalyzerNotReady',
              message: `analyzer pod ${name} runs but is not ready`,
            },
          };
    case 'Failed':
    case 'Succeeded':
      return {
        phase: 'Failed',
        ready: {
          type: 'Ready',
          status: 'False',
          reason: 'AnalyzerPodEnded',
          message: `analyzer pod ${name} ended (${pod.status.phase}); it is replaced`,
        },
      };
    default: {
      const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
      if (scheduled?.status === 'False') {
        return {
          phase: 'Pending',
          ready: {
            type: 'Ready',
            status: 'False',
            reason: 'AnalyzerUnschedulable',
            message: scheduled.message ?? 'the analyzer pod cannot be scheduled',
          },
        };
      }
      return pod.spec?.nodeName
        ? {
            phase: 'Starting',
            ready: {
              type: 'Ready',
              status: 'False',
              reason: 'AnalyzerStarting',
              message: `analyzer pod ${name} is starting on ${pod.spec.nodeName}`,
            },
          }
        : {
            phase: 'Pending',
            ready: {
              type: 'Ready',
              status: 'False',
              reason: 'AnalyzerPending',
              message: `analyzer pod ${name} waits to be scheduled`,
            },
          };
    }
  }
}

function unknown(type: string, message: string, reason = 'AnalyzerStatusUnavailable'): ConditionFacts {
  return { type, status: 'Unknown', reason, message };
}

/**
 * Conditions for an analyzer that gave no usable answer. A wrong answer (not JSON, too large,
 * against the contract) is AnalyzerStatusInvalid; one that is late or absent is Unavailable.
 * Unreachable keeps one fixed message: connect errors vary between polls and would flap status.
 */
function noAnswerConditions(problem: AnalyzerProblem | undefined): ConditionFacts[] {
  const both = (message: string, reason?: string): ConditionFacts[] => [
    unknown('SourceConnected', message, reason),
    unknown('DefectFree', message, reason),
  ];
  if (problem === undefined || problem.reason === 'unreachable')
    return both('the analyzer has not reported its status');
  if (problem.reason === 'timeout') return both(`the analyzer's /status did not answer: ${problem.message}`);
  return both(
    `the analyzer's /status answer was refused (${problem.reason}): ${problem.message}`,
    'AnalyzerStatusInvalid',
  );
}

function analyzerConditions(analyzer: AnalyzerStatus | undefined, problem?: AnalyzerProblem): ConditionFacts[] {
  if (analyzer === undefined) return noAnswerConditions(problem);
  const active = [...new Set(analyzer.activeDefects.map((d) => d.type))].sort();
  return [
    analyzer.mediaFlowing
      ? {
          type: 'SourceConnected',
          status: 'True',
          reason: 'MediaFlowing',
          message: `media flows from ${analyzer.source}`,
        }
      : {
          type: 'SourceConnected',
          status: 'False',
          reason: analyzer.phase === 'reconnecting' ? 'Reconnecting' : 'NoMedia',
          message: `no media from ${analyzer.source} (analyzer ${analyzer.phase})`,
        },
    active.length === 0
      ? { type: 'DefectFree', status: 'True', reason: 'NoActiveDefects', message: 'no defect is active' }
      : { type: 'DefectFree', status: 'False', reason: 'DefectsActive', message: `active: ${active.join(', ')}` },
  ];
}

/**
 * Keeps lastTransitionTime while a condition's status stays the same. Messages carry text from
 * the analyzer, the spec and the scheduler: URL secrets are masked and the length bounded.
 */
function withTransitions(
  facts: ConditionFacts[],
  previous: Condition[] | undefined,
  generation: number | undefined,
  now: Date,
): Condition[] {
  return facts.map((fact) => {
    const c = { ...fact, message: safeMessage(fact.message) };
    const before = previous?.find((p) => p.type === c.type);
    const lastTransitionTime =
      before?.status === c.status ? before.lastTransitionTime : now.toISOString().replace(/\.\d+Z$/, 'Z');
    return { ...c, lastTransitionTime, ...(generation !== undefined ? { observedGeneration: generation } : {}) };
  });
}

function streamFacts(analyzer: AnalyzerStatus): NonNullable<StreamMonitorStatus['stream']> {
  const f = analyzer.format;
  const out: NonNullable<StreamMonitorStatus['stream']> = {};
  if (f.videoCodec) out.videoCodec = f.videoCodec;
  if (f.audioCodec) out.audioCodec = f.audioCodec;
  if (f.width && f.height) out.resolution = `${f.width}x${f.height}`;
  // Rounded so that frame-rate jitter in the measurement does not cause status writes.
  if (f.frameRate) out.frameRate = Math.round(f.frameRate * 100) / 100;
  if (f.channelLayout) out.audioLayout = f.channelLayout;
  if (analyzer.bitrate !== null) out.bitrate = Math.round(analyzer.bitrate / 10_000) * 10_000;
  return out;
}

function defectFacts(analyzer: AnalyzerStatus): NonNullable<StreamMonitorStatus['defects']> {
  const active = [...new Set(analyzer.activeDefects.map((d) => d.type))].sort();
  const last = analyzer.recentEvents.filter((e) => !isSignalEvent(e)).at(-1);
  const counts = Object.fromEntries(
    Object.entries(analyzer.counters.defects).filter(([, n]) => n !== undefined && n > 0),
  ) as Record<string, number>;
  return { active, ...(last ? { last: { type: last.type, wallclock: last.wallclock } } : {}), counts };
}

/** The detail fields a signal's message names, in this order; others (and non-scalar values) are left out. */
const SIGNAL_DETAIL_KEYS = [
  'source',
  'command',
  'pid',
  'role',
  'returned',
  'spliceEventId',
  'segmentationEventId',
  'segmentationTypeId',
  'breakDuration',
  'id',
  'rendition',
] as const;
/** Each value as much as a person needs; the analyzer's answer is untrusted. */
const MAX_SIGNAL_VALUE = 64;
/** Signals kept in status: the Events of the new ones are written from them. */
const KEPT_SIGNALS = 10;

/** `cue_out at 2026-…: source ts, command splice_insert, spliceEventId 7, breakDuration 30` */
export function signalMessage(e: SignalEvent): string {
  const detail: unknown = e.detail;
  const fields = SIGNAL_DETAIL_KEYS.flatMap((key) => {
    const v = typeof detail === 'object' && detail !== null ? (detail as Record<string, unknown>)[key] : undefined;
    if (typeof v !== 'string' && typeof v !== 'number') return [];
    return [`${key} ${String(v).slice(0, MAX_SIGNAL_VALUE)}`];
  });
  return safeMessage(
    `${e.type} at ${e.wallclock.slice(0, MAX_SIGNAL_VALUE)}${fields.length ? `: ${fields.join(', ')}` : ''}`,
  );
}

/** How many signal events the analyzer has reported, and the last few; undefined while it reported none. */
function signalFacts(analyzer: AnalyzerStatus): StreamMonitorStatus['signals'] {
  const count = analyzer.counters.signals;
  if (count === undefined || count === 0) return undefined;
  const recent = analyzer.recentEvents
    .filter(isSignalEvent)
    .slice(-KEPT_SIGNALS)
    .map((e) => ({ type: e.type, wallclock: e.wallclock, message: signalMessage(e) }));
  return { count: Math.floor(count), recent };
}

export function observedStatus(o: Observation): StreamMonitorStatus {
  const { monitor, pod, now } = o;
  const generation = monitor.metadata.generation;
  const previous = monitor.status?.conditions;
  if (o.blocked !== undefined) {
    return {
      phase: 'Failed',
      observedGeneration: generation,
      conditions: withTransitions(
        [
          { type: 'Ready', status: 'False', reason: o.blocked.reason, message: o.blocked.message },
          unknown('SourceConnected', 'no analyzer runs'),
          unknown('DefectFree', 'no analyzer runs'),
        ],
        previous,
        generation,
        now,
      ),
    };
  }
  if (monitor.spec.suspend) {
    return {
      phase: 'Suspended',
      observedGeneration: generation,
      conditions: withTransitions(
        [
          { type: 'Ready', status: 'False', reason: 'Suspended', message: 'spec.suspend is true: no analyzer runs' },
          unknown('SourceConnected', 'no analyzer runs'),
          unknown('DefectFree', 'no analyzer runs'),
        ],
        previous,
        generation,
        now,
      ),
    };
  }
  const { phase: podPhase, ready } = podPhaseFacts(pod, o.terminating);
  const analyzer = podPhase === 'Running' ? o.analyzer : undefined;
  const extra = analyzerConditions(analyzer, podPhase === 'Running' ? o.analyzerProblem : undefined);
  const degraded = podPhase === 'Running' && extra.some((c) => c.status === 'False');
  const status: StreamMonitorStatus = {
    phase: degraded ? 'Degraded' : podPhase,
    observedGeneration: generation,
    conditions: withTransitions([ready, ...extra], previous, generation, now),
  };
  if (pod !== undefined) {
    const restarts = (pod.status?.containerStatuses ?? []).reduce((n, c) => n + c.restartCount, 0);
    status.analyzer = {
      pod: pod.metadata?.name,
      node: pod.spec?.nodeName,
      podIP: pod.status?.podIP,
      startTime:
        pod.status?.startTime === undefined
          ? undefined
          : new Date(pod.status.startTime).toISOString().replace(/\.\d+Z$/, 'Z'),
      restarts,
      configHash: pod.metadata?.annotations?.[ANNOTATION_CONFIG_HASH],
    };
  }
  if (analyzer !== undefined) {
    status.stream = streamFacts(analyzer);
    status.defects = defectFacts(analyzer);
    const delivery = deliveryFacts(analyzer);
    if (delivery !== undefined) status.delivery = delivery;
    status.signals = signalFacts(analyzer);
  } else if (monitor.status?.stream !== undefined && podPhase === 'Running') {
    // An analyzer that missed one poll keeps its last known stream facts.
    status.stream = monitor.status.stream;
    status.defects = monitor.status.defects;
    if (monitor.status.delivery !== undefined) status.delivery = monitor.status.delivery;
    status.signals = monitor.status.signals;
  }
  return status;
}

/**
 * Everything of a monitor's status that comes from its analyzer's /status, as one string: a
 * poll whose answer gives the same string cannot change the status, so it wakes nothing.
 */
export function analyzerFacts(answer: AnalyzerAnswer | undefined): string {
  const analyzer = answer?.status;
  if (analyzer === undefined) return stableJson({ conditions: noAnswerConditions(answer?.problem) });
  return stableJson({
    conditions: analyzerConditions(analyzer),
    stream: streamFacts(analyzer),
    defects: defectFacts(analyzer),
    delivery: deliveryFacts(analyzer),
    signals: signalFacts(analyzer),
  });
}

/** Whether the stored status already says what was observed (undefined fields ignored). */
export function sameStatus(stored: StreamMonitorStatus | undefined, observed: StreamMonitorStatus): boolean {
  return stableJson(stored ?? {}) === stableJson(observed);
}
