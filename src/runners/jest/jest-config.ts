/** Only the parts of Jest's configs our Jest modules read (Jest's own types live in @jest/types). */
export interface JestGlobalConfig {
  readonly maxWorkers: number;
  /** The root config's `projects`, as written (paths or inline configs). */
  readonly projects?: readonly unknown[];
}
export interface JestProjectConfig {
  readonly id: string;
  readonly rootDir: string;
  readonly displayName?: { readonly name: string } | string;
  readonly globalSetup?: string | null;
  readonly testEnvironment?: string;
  readonly testEnvironmentOptions?: Record<string, unknown>;
}
