import { createRequire } from 'node:module';

/**
 * zx, loaded through its CommonJS build. Its ES module re-exports the CommonJS one by name,
 * and inside Jest's global setup (where Jest hooks `require` to transform modules) those names
 * come out undefined (`which is not a function`); `require` gets the real exports everywhere.
 * Loaded when first needed: only `kindCluster` and the NodePort lookup use it.
 */
export function loadZx(): typeof import('zx') {
  return createRequire(import.meta.url)('zx') as typeof import('zx');
}
