/** Wraps an async close so that it runs once, whoever calls it first; later callers share it. */
export function once(close: () => Promise<void>): () => Promise<void> {
  let closing: Promise<void> | undefined;
  return () => (closing ??= close());
}
