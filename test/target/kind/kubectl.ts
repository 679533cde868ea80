import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Whether a `kubectl` is on PATH: tests that compare with the real client run only then. */
export const hasKubectl = (process.env.PATH ?? '').split(delimiter).some((dir) => {
  try {
    accessSync(join(dir, 'kubectl'), constants.X_OK);
    return true;
  } catch {
    return false; // not in this folder; look in the next
  }
});

export interface KubectlResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs kubectl asynchronously: the simulator answers from this very process, so a synchronous
 * child would block the event loop and time out against it. `KUBECONFIG` is replaced, never
 * inherited, so the machine's own config cannot leak in.
 */
export function kubectl(args: readonly string[], env: { KUBECONFIG?: string } = {}): Promise<KubectlResult> {
  const { KUBECONFIG: _ignored, ...inherited } = process.env;
  return new Promise((resolve) => {
    execFile(
      'kubectl',
      [...args, '--request-timeout=10s'],
      { env: { ...inherited, ...(env.KUBECONFIG ? { KUBECONFIG: env.KUBECONFIG } : {}) }, timeout: 30_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
