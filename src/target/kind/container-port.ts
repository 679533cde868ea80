import { parseHostPort, type HostPort } from '../../config/host-port.ts';
import { loadZx } from './load-zx.ts';

/** What asking the container runtime gave: the host port, or why there is none. */
export type ContainerPortLookup =
  | { readonly found: HostPort; readonly command: string }
  | { readonly failed: string; readonly command: string }
  | { readonly skipped: string };

/** The container runtimes Kind runs nodes with, in the order they are asked. */
export const CONTAINER_RUNTIMES = ['docker', 'podman'] as const;

const LOOKUP_TIMEOUT = '5s';

/**
 * The host port a Kind node container publishes for `nodePort` (Kind's `extraPortMappings`),
 * as `docker port <cluster>-control-plane <nodePort>/tcp` prints it, asked of docker, then
 * podman, through zx (arguments escaped, never spliced into a shell string). No runtime on
 * PATH is `skipped`, not a failure: the NodePort may still be reachable another way.
 *
 * A wildcard binding (`0.0.0.0:25433`, `[::]:25433`) is reached on loopback; IPv4 is preferred.
 *
 * @example
 * await kindNodeHostPort('e2e', 30432);
 * // { found: { host: '127.0.0.1', port: 25433 }, command: 'docker port e2e-control-plane 30432/tcp' }
 */
export async function kindNodeHostPort(cluster: string, nodePort: number): Promise<ContainerPortLookup> {
  const { $, which } = loadZx();
  const container = `${cluster}-control-plane`;
  const failures: { readonly command: string; readonly said: string }[] = [];
  for (const runtime of CONTAINER_RUNTIMES) {
    if (!(await which(runtime, { nothrow: true }))) continue;
    const command = `${runtime} port ${container} ${nodePort}/tcp`;
    const result = await $({ quiet: true, nothrow: true, timeout: LOOKUP_TIMEOUT })`${runtime} port ${container} ${`${nodePort}/tcp`}`;
    if (result.exitCode !== 0) {
      const said =
        result.stderr.trim().split('\n').pop() ||
        (result.signal ? `killed after ${LOOKUP_TIMEOUT}` : result.cause ? `could not be run (${result.cause.message})` : `exit code ${result.exitCode}`);
      failures.push({ command, said });
      continue;
    }
    const found = hostPortOf(result.stdout);
    if (found) return Object.freeze({ found, command });
    failures.push({ command, said: `printed no host port${result.stdout.trim() ? ` (${result.stdout.trim().split('\n')[0]})` : ''}` });
  }
  if (failures.length === 0) return Object.freeze({ skipped: `neither ${CONTAINER_RUNTIMES.join(' nor ')} is on PATH` });
  if (failures.length === 1) return Object.freeze({ failed: failures[0]!.said, command: failures[0]!.command });
  return Object.freeze({ failed: failures.map((f) => `${f.command}: ${f.said}`).join('; '), command: `${container} port ${nodePort}/tcp` });
}

/** The first usable binding of `docker port` output, IPv4 first; wildcards become loopback. */
function hostPortOf(output: string): HostPort | undefined {
  const bindings = output
    .split('\n')
    .map((line) => parseHostPort(line.trim()))
    .filter((binding): binding is HostPort => binding !== undefined)
    .map((binding) => (binding.host === '0.0.0.0' ? { ...binding, host: '127.0.0.1' } : binding.host === '::' ? { ...binding, host: '::1' } : binding));
  return bindings.find((b) => !b.host.includes(':')) ?? bindings[0];
}
