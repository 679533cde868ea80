import type { MigrationConfigInput } from '../config/config-schema.ts';
import type { DoctorReport } from '../doctor/doctor-report.ts';
import { resolveInput, type RunOptions, type StartOptions } from '../session/start-session.ts';
import { teardownOnInterrupt } from '../teardown/interrupt.ts';
import { TeardownStack } from '../teardown/teardown-stack.ts';

export type { DoctorLink, DoctorReport, LinkStatus } from '../doctor/doctor-report.ts';

/**
 * Checks every link a run of this configuration needs — Kind: kubeconfig and context, API
 * server, permissions, Service, Ready pod, Secret, NodePort and port-forward; every target: the
 * Postgres login, the ledger and the partition horizon — and says for each what is wrong and
 * how to fix it. Changes nothing (the database session is read-only). Resolves to the report;
 * `report.ok` is false when a run would fail. Rejects only on a bad configuration (ConfigError).
 *
 * @example
 * ```ts
 * const report = await doctor({ kindCluster: 'e2e', namespace: 'kubernaut-system', secret: 'postgresql-secret' });
 * for (const link of report.links) console.log(link.status, link.link, link.detail, link.fix ?? '');
 * ```
 */
export async function doctor(input: MigrationConfigInput & RunOptions = {}, options: StartOptions = {}): Promise<DoctorReport> {
  const { logger: _logger, now, ...block } = input;
  const config = resolveInput(block, options);
  const { runDoctor } = await import('../doctor/run-doctor.ts');
  const stack = new TeardownStack();
  const abort = new AbortController();
  const close = () => {
    abort.abort();
    return stack.close();
  };
  const disarm = options.interruptible ? teardownOnInterrupt(close, () => undefined) : undefined;
  try {
    return await runDoctor(config, { stack, signal: abort.signal, ...(now ? { now } : {}) });
  } finally {
    disarm?.();
    await close();
  }
}
