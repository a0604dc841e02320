// The addresses kwok gives simulated nodes and pods are not on this machine: a connection to one (the API
// server's pods/proxy reading a kwok pod, `kubectl logs` on a kwok node) would leave through the default
// route. While a cluster runs, blackhole routes keep every such packet on the machine: the dial fails at
// once with "no route", as it does for a real pod network the control plane cannot reach. A test that
// gives a pod IP a real process adds a more specific route (test/helpers/podNetwork.ts), which wins.
import { execFileSync } from 'node:child_process';

export const SIMULATED_POD_CIDR = '10.244.0.0/16';
export const SIMULATED_NODE_CIDR = '10.243.0.0/16';
/** The InternalIP kwok reports for every simulated node (inside SIMULATED_NODE_CIDR). */
export const SIMULATED_NODE_IP = '10.243.0.1';

const CIDRS = [SIMULATED_POD_CIDR, SIMULATED_NODE_CIDR];

/** Adds the blackhole routes (root only); says why not otherwise. Idempotent. */
export function confineSimulatedNetwork(log: (line: string) => void): boolean {
  if (process.getuid?.() !== 0) {
    log('not root: simulated pod and node addresses are not confined to this machine (no blackhole routes)');
    return false;
  }
  try {
    for (const cidr of CIDRS) execFileSync('ip', ['route', 'replace', 'blackhole', cidr], { stdio: 'pipe' });
    return true;
  } catch (error) {
    log(`could not add blackhole routes for ${CIDRS.join(', ')}: ${(error as Error).message}`);
    return false;
  }
}

/** Removes the blackhole routes again (errors ignored: they may be gone already). */
export function releaseSimulatedNetwork(): void {
  if (process.getuid?.() !== 0) return;
  for (const cidr of CIDRS) {
    try {
      execFileSync('ip', ['route', 'del', 'blackhole', cidr], { stdio: 'pipe' });
    } catch {
      // already gone
    }
  }
}
