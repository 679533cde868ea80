import type { Postgres } from '../postgres/connect.ts';
import { isolationFailure, withTemplateShared } from './clone.ts';
import { createFromTemplate } from './create-from-template.ts';

/**
 * Creates `name` as a copy of the migrated `template`, on `admin`'s server, with the faster
 * strategy for that server; returns false when `name` exists already (a database shared by
 * several projects, made by the first). Holds the template's lock shared, in `admin`'s
 * database — where `ensureTemplate` took it exclusively — so the copy never catches the
 * template mid-migration.
 */
export async function createDatabaseFromTemplate(admin: Postgres, template: string, name: string): Promise<boolean> {
  try {
    await withTemplateShared(admin.client, template, () => createFromTemplate(admin.client, template, name));
    return true;
  } catch (error) {
    if ((error as { code?: string }).code === '42P04') return false; // duplicate_database
    throw isolationFailure(`could not create the database "${name}" from the template "${template}"`, admin.connection, error);
  }
}
