import type { ColumnType } from 'kysely';

/** A column as Postgres reports it: `format_type(...)`, NOT NULL, and whether it has a default. */
export interface ColumnSpec {
  /** Exactly what `format_type(atttypid, atttypmod)` prints, e.g. `character varying(255)`. */
  readonly type: string;
  readonly notNull: boolean;
  readonly hasDefault: boolean;
}

export interface RelationSpec {
  readonly kind: 'table' | 'partitioned-table' | 'view';
  readonly columns: Readonly<Record<string, ColumnSpec>>;
}

export type SchemaSpec = Readonly<Record<string, RelationSpec>>;

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** What node-postgres hands back for a Postgres type (int8 and numeric stay strings). */
type SelectOf<T extends string> = T extends `${infer E}[]`
  ? SelectOf<E>[]
  : T extends 'integer' | 'smallint' | 'real' | 'double precision'
    ? number
    : T extends 'bigint' | `numeric${string}`
      ? string
      : T extends 'boolean'
        ? boolean
        : T extends 'json' | 'jsonb'
          ? JsonValue
          : T extends `timestamp${string}` | 'date'
            ? Date
            : string;

/** What may be written to it: wider than what comes back. */
type InsertOf<T extends string> = T extends `${infer E}[]`
  ? InsertOf<E>[]
  : T extends 'bigint' | `numeric${string}`
    ? string | number | bigint
    : T extends `timestamp${string}` | 'date'
      ? Date | string
      : SelectOf<T>;

type Nullable<C extends ColumnSpec, V> = C['notNull'] extends true ? V : V | null;
type Optional<C extends ColumnSpec, V> = C['hasDefault'] extends true ? V | undefined : C['notNull'] extends true ? V : V | undefined;

type TableColumn<C extends ColumnSpec> = ColumnType<
  Nullable<C, SelectOf<C['type']>>,
  Optional<C, Nullable<C, InsertOf<C['type']>>>,
  Nullable<C, InsertOf<C['type']>>
>;

type ViewColumn<C extends ColumnSpec> = ColumnType<SelectOf<C['type']> | null, never, never>;

/** The Kysely `Database` interface of a schema spec: one source for runtime checks and types. */
export type DatabaseOf<S extends SchemaSpec> = {
  -readonly [R in keyof S]: {
    -readonly [K in keyof S[R]['columns']]: S[R]['kind'] extends 'view'
      ? ViewColumn<S[R]['columns'][K]>
      : TableColumn<S[R]['columns'][K]>;
  };
};

/** Freezes a schema spec deeply and keeps its literal types. */
export function defineSchema<const S extends SchemaSpec>(spec: S): S {
  for (const relation of Object.values(spec)) {
    for (const column of Object.values(relation.columns)) Object.freeze(column);
    Object.freeze(relation.columns);
    Object.freeze(relation);
  }
  return Object.freeze(spec);
}
