/** Finds why runtime pods do not become ready, in words an admin can act on. */
import type { Problem } from './serviceStatus.js';

export interface PodView {
  metadata: { name: string };
  spec?: { nodeName?: string };
  status?: {
    phase?: string;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
    containerStatuses?: {
      name: string;
      restartCount?: number;
      state?: { waiting?: { reason?: string; message?: string } };
      lastState?: { terminated?: { reason?: string; exitCode?: number } };
    }[];
  };
}

const FAILING = new Set(['CrashLoopBackOff', 'ImagePullBackOff', 'ErrImagePull', 'InvalidImageName', 'CreateContainerConfigError', 'CreateContainerError', 'RunContainerError']);

export function podProblemFrom(pods: PodView[]): Problem | undefined {
  for (const pod of pods) {
    for (const cs of pod.status?.containerStatuses ?? []) {
      const waiting = cs.state?.waiting;
      if (waiting?.reason && FAILING.has(waiting.reason)) {
        const last = cs.lastState?.terminated;
        const exit = last ? ` (last exit: ${last.reason ?? 'terminated'}, code ${last.exitCode ?? '?'}, ${cs.restartCount ?? 0} restarts)` : '';
        return { reason: 'PodsFailing', message: `pod ${pod.metadata.name}: container ${cs.name} is ${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''}${exit}` };
      }
    }
  }
  for (const pod of pods) {
    const sched = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
    if (sched?.status === 'False' && sched.reason === 'Unschedulable') {
      return { reason: 'PodsUnschedulable', message: `pod ${pod.metadata.name} cannot be scheduled: ${sched.message ?? 'no node fits'} (edge placement needs nodes labelled node-role.kubernetes.io/edge)` };
    }
  }
  return undefined;
}
