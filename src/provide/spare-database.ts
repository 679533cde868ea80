import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import type { Postgres } from '../postgres/connect.ts';
import { assertTemplateName } from './clone-names.ts';
import { renameFirst } from './clone.ts';

/*
 * Spares: copies of a template made ahead of need, between runs, by whoever keeps the server
 * (the reuse keeper, spare-keeper.ts). A copy of a migrated schema costs hundreds of ms of
 * disk work; taking a spare is a rename, a catalog update of a millisecond. A run asks for
 * the next spare once it has taken or copied its database (`requestSpare`), so the copy is
 * made while the developer reads the results, not while the next run waits.
 */

/** The channel the keeper LISTENs on; the payload is a template's name. */
export const SPARE_CHANNEL = 'e2e_migrations_spare';

const SPARE = /^e2e_tpl_[0-9a-f]{16}_spare_[0-9a-f]{8}$/;

/** A new spare's name for `template`: `<template>_spare_<8 hex>`. */
export function spareName(template: string): string {
  assertTemplateName(template);
  return `${template}_spare_${randomBytes(4).toString('hex')}`;
}

/** Whether `name` is a spare of `template` (and nothing else). */
export function isSpareOf(name: string, template: string): boolean {
  return SPARE.test(name) && name.startsWith(`${template}_spare_`);
}

/** The spares of `template` on the server, by name; `claimable` leaves out any marked IS_TEMPLATE. */
export async function listSpares(client: pg.ClientBase, template: string, { claimable = false } = {}): Promise<string[]> {
  assertTemplateName(template);
  const { rows } = await client.query<{ datname: string }>(
    `select datname from pg_database where starts_with(datname, $1)${claimable ? ' and not datistemplate' : ''} order by datname`,
    [`${template}_spare_`],
  );
  return rows.map((row) => row.datname).filter((datname) => isSpareOf(datname, template));
}

/**
 * Takes a spare of `template` as `name`: renames it, which succeeds for exactly one taker (a
 * database with a connection, or already renamed by another run, cannot be). Returns false
 * when there is none to take.
 */
export async function claimSpare(client: pg.ClientBase, template: string, name: string): Promise<boolean> {
  try {
    return (await renameFirst(client, await listSpares(client, template, { claimable: true }), name)) !== undefined;
  } catch (error) {
    if ((error as { code?: string }).code === '42P04') return false; // `name` exists: a database shared by projects, made by another
    throw error;
  }
}

/** Asks whoever keeps the server for a spare of `template` (nobody may be listening: then it is a no-op). */
export async function requestSpare(admin: Postgres, template: string): Promise<void> {
  assertTemplateName(template);
  await admin.query('select pg_notify($1, $2)', [SPARE_CHANNEL, template]);
}

/** Drops the spares of `template`: copies of what it was before it was migrated again. */
export async function dropSpares(admin: Postgres, template: string): Promise<number> {
  const spares = await listSpares(admin.client, template);
  for (const datname of spares) await admin.query(`DROP DATABASE IF EXISTS ${admin.client.escapeIdentifier(datname)} WITH (FORCE)`);
  return spares.length;
}
