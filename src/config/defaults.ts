/** Defaults shared by every entry point; applied late (`??`) so explicit values and Secrets win. */
export const DEFAULTS = Object.freeze({
  service: 'postgresql',
  port: 5432,
  user: 'slm_user',
  password: 'test_password',
  database: 'action_history',
  /** The Secret read for credentials when `secret` is not given and the target is Kind. */
  secret: undefined as string | undefined,
  readyTimeoutMs: 5 * 60_000,
  partitions: Object.freeze({ monthsBack: 1, monthsAhead: 3 }),
});
