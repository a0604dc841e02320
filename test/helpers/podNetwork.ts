// A network namespace holding a pod's IP, so a process started in it answers on the address the API
// server has for a kwok pod: the API server's pods/proxy then reaches a real runtime process the way it
// reaches a real pod. The host gets one veth end with a /32 route to the pod IP and nothing else; the
// namespace routes everything back through the veth. Needs root (ip netns); removed by `remove()`.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';

const exec = promisify(execFile);

export interface PodNetwork {
  readonly name: string;
  readonly podIP: string;
  /** argv prefix that runs a command inside the namespace. */
  readonly execPrefix: string[];
  remove(): Promise<void>;
}

export async function createPodNetwork(podIP: string): Promise<PodNetwork> {
  if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(podIP)) throw new Error(`pod IP ${podIP} is not an IPv4 address`);
  const id = randomBytes(3).toString('hex');
  const name = `mlo-pod-${id}`;
  const host = `mloh${id}`;
  const inner = `mlon${id}`;
  const ip = (...args: string[]) => exec('ip', args);
  const steps: string[][] = [
    ['netns', 'add', name],
    ['link', 'add', host, 'type', 'veth', 'peer', 'name', inner],
    ['link', 'set', inner, 'netns', name],
    ['-n', name, 'link', 'set', 'lo', 'up'],
    ['-n', name, 'addr', 'add', `${podIP}/32`, 'dev', inner],
    ['-n', name, 'link', 'set', inner, 'up'],
    ['-n', name, 'route', 'add', 'default', 'dev', inner],
    ['link', 'set', host, 'up'],
    ['route', 'add', `${podIP}/32`, 'dev', host],
  ];
  const remove = async () => {
    await ip('route', 'del', `${podIP}/32`, 'dev', host).catch(() => undefined);
    await ip('link', 'del', host).catch(() => undefined);
    await ip('netns', 'del', name).catch(() => undefined);
  };
  try {
    for (const step of steps) await ip(...step);
  } catch (error) {
    await remove();
    throw error;
  }
  return { name, podIP, execPrefix: ['ip', 'netns', 'exec', name], remove };
}
