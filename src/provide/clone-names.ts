import { createHash, randomBytes } from 'node:crypto';
import { ConfigError } from '../errors/errors.ts';

/**
 * Names of isolation databases. All are plain lower-case identifiers well inside Postgres's
 * 63-byte limit, and are still only ever put into SQL through `escapeIdentifier`.
 *
 *   template  e2e_tpl_<16 hex of the migrations' hash>
 *   clone     <template>_<6 hex run id>_<8 hex random>
 *   spare     <template>_spare_<8 hex random>   (a copy kept for the next run: spare-database.ts)
 */
export const TEMPLATE_PREFIX = 'e2e_tpl_';

const TEMPLATE_NAME = /^e2e_tpl_[0-9a-f]{16}$/;
const CLONE_PREFIX = /^e2e_tpl_[0-9a-f]{16}_[0-9a-f]{6}_$/;
const ISOLATION_NAME = /^(e2e_tpl_[0-9a-f]{16})(?:_([0-9a-f]{6})_[0-9a-f]{8}|(_spare_)[0-9a-f]{8})?$/;

/** What a template's content depends on: the migrations it ran (name + checksum, in order). */
export interface TemplateKeyInput {
  readonly kind: string;
  readonly migrations: readonly { readonly name: string; readonly checksum: string }[];
  readonly partitions: { readonly monthsBack: number; readonly monthsAhead: number };
}

/**
 * The template's name: a hash of the checksums of the migrations it holds (and the partition
 * window they were run with). Change a migration or the selection and the name changes, so
 * the template is rebuilt; otherwise every run finds and reuses it.
 */
export function templateName(input: TemplateKeyInput): string {
  const hash = createHash('sha256');
  hash.update(`e2e-migrations template v1\n${input.kind}\n`);
  for (const migration of input.migrations) hash.update(`${migration.name}\0${migration.checksum}\n`);
  hash.update(`partitions ${input.partitions.monthsBack} ${input.partitions.monthsAhead}\n`);
  return `${TEMPLATE_PREFIX}${hash.digest('hex').slice(0, 16)}`;
}

/** The prefix of every clone one run makes from `template`; teardown drops what starts with it. */
export function clonePrefix(template: string, runId: string = randomBytes(3).toString('hex')): string {
  const prefix = `${template}_${runId}_`;
  assertClonePrefix(prefix);
  return prefix;
}

/** A new clone name under `prefix`. */
export function cloneName(prefix: string): string {
  assertClonePrefix(prefix);
  return `${prefix}${randomBytes(4).toString('hex')}`;
}

/** What one of our database names is, or undefined for any other name. */
export type IsolationName =
  | { readonly kind: 'template'; readonly template: string }
  | { readonly kind: 'spare'; readonly template: string }
  | { readonly kind: 'clone'; readonly template: string; readonly runId: string; readonly prefix: string };

export function parseIsolationName(name: string): IsolationName | undefined {
  const match = ISOLATION_NAME.exec(name);
  if (!match) return undefined;
  const [, template, runId, spare] = match as unknown as [string, string, string | undefined, string | undefined];
  if (spare !== undefined) return { kind: 'spare', template };
  if (runId === undefined) return { kind: 'template', template };
  return { kind: 'clone', template, runId, prefix: `${template}_${runId}_` };
}

export function assertTemplateName(name: string): void {
  if (!TEMPLATE_NAME.test(name)) throw new ConfigError(`not an e2e-migrations template name: ${JSON.stringify(name)}`, { key: 'E2E_MIGRATIONS_TEMPLATE' });
}

/** Refuses anything but our own prefix shape, so a sweep can never match a user's database. */
export function assertClonePrefix(prefix: string): void {
  if (!CLONE_PREFIX.test(prefix)) throw new ConfigError(`not an e2e-migrations clone prefix: ${JSON.stringify(prefix)}`, { key: 'E2E_MIGRATIONS_CLONE_PREFIX' });
}
