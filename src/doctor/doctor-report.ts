import type { TargetKind } from '../config/resolve-config.ts';
import type { TransportReport } from '../target/target.ts';

/**
 * `ok`: the link holds. `warn`: it does not, but a run does not need it (e.g. the NodePort is
 * unreachable and the port-forward works). `fail`: a run would fail here. `skip`: not checked,
 * because a link before it failed or it does not apply.
 */
export type LinkStatus = 'ok' | 'warn' | 'fail' | 'skip';

/** One link of the chain a run needs, e.g. `permissions` or `partitions`. */
export interface DoctorLink {
  readonly link: string;
  readonly status: LinkStatus;
  /** What was found, one line. */
  readonly detail: string;
  /** How to fix it, when it is not ok. */
  readonly fix?: string;
}

/** What `doctor` found: every link in order, and whether a run would succeed. */
export interface DoctorReport {
  /** True when no link failed: a run would succeed. */
  readonly ok: boolean;
  readonly target: TargetKind;
  readonly links: readonly DoctorLink[];
  /** Kind: the transport a run would use, as a run reports it. */
  readonly transport?: Pick<TransportReport, 'transport' | 'mode' | 'address' | 'reason'>;
}

/** The links, as they are found; later links ask whether an earlier one held. */
export class Chain {
  readonly #links: DoctorLink[] = [];

  get links(): readonly DoctorLink[] {
    return this.#links;
  }

  ok(link: string, detail: string): void {
    this.#add({ link, status: 'ok', detail });
  }

  warn(link: string, detail: string, fix?: string): void {
    this.#add({ link, status: 'warn', detail, ...(fix ? { fix } : {}) });
  }

  fail(link: string, detail: string, fix?: string): void {
    this.#add({ link, status: 'fail', detail, ...(fix ? { fix } : {}) });
  }

  skip(link: string, why: string): void {
    this.#add({ link, status: 'skip', detail: why });
  }

  /** Adds a link made elsewhere (kept in the order given). */
  add(link: DoctorLink): void {
    this.#add(link);
  }

  #add(link: DoctorLink): void {
    this.#links.push(Object.freeze(link));
  }
}

const LABEL: Record<LinkStatus, string> = { ok: 'ok  ', warn: 'WARN', fail: 'FAIL', skip: 'skip' };

/**
 * One line per link, its fix indented under it, then the verdict.
 *
 * @example
 * FAIL  permissions   user kind-e2e may not: create pods/portforward in kubernaut-system
 *                     fix: grant it …; check with `kubectl auth can-i create pods/portforward -n kubernaut-system`
 */
export function formatDoctorReport(report: DoctorReport): string {
  const width = Math.max(...report.links.map((l) => l.link.length), 8) + 2;
  const lines = report.links.flatMap((l) => [
    `${LABEL[l.status]}  ${l.link.padEnd(width)}${l.detail}`,
    ...(l.fix ? [`${' '.repeat(6 + width)}fix: ${l.fix}`] : []),
  ]);
  const failed = report.links.filter((l) => l.status === 'fail').length;
  const verdict = failed === 0 ? 'a run would succeed' : `a run would fail: ${failed} link${failed === 1 ? '' : 's'} broken`;
  return `${lines.join('\n')}\n${verdict}\n`;
}
