import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * What the container the process runs in lets it use, read from its cgroup files: memory (the memory budget's
 * default) and CPU (how many inference workers, intra-op threads and concurrent decodes it starts). Node's
 * `os.availableParallelism()` counts the CPUs the process may run on, not the CPU time its quota allows: a
 * pod limited to 1 CPU on a 4-core node sees 4.
 */

/** Where cgroup files are mounted in a container. */
export const CGROUP_ROOT = '/sys/fs/cgroup';

/**
 * A cgroup limit at or above this is "no limit": cgroup v1 reports an unlimited group as the largest page-aligned
 * 64-bit value (9223372036854771712), and no edge node has a petabyte of memory.
 */
const UNLIMITED_FROM = 2 ** 50;

/** The trimmed text of a cgroup file, or undefined when it does not exist or cannot be read. */
function readCgroupFile(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/**
 * The memory limit of the container the process runs in, from cgroup v2 (`memory.max`) or v1
 * (`memory/memory.limit_in_bytes`) under `root`; undefined when there is none ("max", a huge value, or no
 * cgroup file at all, as outside a container).
 */
export function cgroupMemoryLimit(root: string = CGROUP_ROOT): number | undefined {
  for (const file of [path.join(root, 'memory.max'), path.join(root, 'memory', 'memory.limit_in_bytes')]) {
    const text = readCgroupFile(file);
    if (text === undefined) continue;
    if (text === 'max') return undefined;
    const bytes = Number(text);
    if (!Number.isFinite(bytes) || bytes <= 0 || bytes >= UNLIMITED_FROM) return undefined;
    return bytes;
  }
  return undefined;
}

/**
 * The CPU quota of the container, in CPUs (quota over period, e.g. 1.5), from cgroup v2 (`cpu.max`: "<quota>
 * <period>" or "max <period>") or v1 (`cpu/cpu.cfs_quota_us`, -1 for none, over `cpu/cpu.cfs_period_us`) under
 * `root`; undefined when there is none or the files do not parse.
 */
export function cgroupCpuLimit(root: string = CGROUP_ROOT): number | undefined {
  const v2 = readCgroupFile(path.join(root, 'cpu.max'));
  if (v2 !== undefined) {
    const [quota, period] = v2.split(/\s+/);
    if (quota === 'max') return undefined;
    return cpus(Number(quota), Number(period ?? 100_000));
  }
  const quota = readCgroupFile(path.join(root, 'cpu', 'cpu.cfs_quota_us'));
  if (quota === undefined) return undefined;
  return cpus(Number(quota), Number(readCgroupFile(path.join(root, 'cpu', 'cpu.cfs_period_us')) ?? 100_000));
}

function cpus(quota: number, period: number): number | undefined {
  if (!Number.isSafeInteger(quota) || !Number.isSafeInteger(period) || quota <= 0 || period <= 0) return undefined;
  return quota / period;
}

/**
 * The cores the process can keep busy: the CPUs it may run on, no more than its container's CPU quota rounded
 * up (a quota of 1.5 CPUs runs two threads at 75% each), and at least 1.
 */
export function availableCores(root: string = CGROUP_ROOT): number {
  const cpusAllowed = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  const quota = cgroupCpuLimit(root);
  return Math.max(1, quota === undefined ? cpusAllowed : Math.min(cpusAllowed, Math.ceil(quota)));
}
