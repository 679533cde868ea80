import { ConfigError } from '../errors/errors.ts';

/**
 * Fails early, naming the Node version, when it is older than `minimum`. Without this, Node 20
 * dies while importing undici (client-node's HTTP library), with a TypeError about `bind` that
 * says nothing about versions. Call it before importing anything that pulls in client-node.
 *
 * The error is a usage error (exit code 2): the fix is on the user's side.
 *
 * @example
 * assertNodeVersion(); // on Node 20.20.2: ConfigError "e2e-migrations needs Node ≥ 22.19, found v20.20.2"
 */
export function assertNodeVersion(minimum = '22.19.0', current: string = process.version): void {
  const wanted = parseVersion(minimum);
  if (!wanted) throw new TypeError(`assertNodeVersion: "${minimum}" is not a version like 22.19.0`);
  const found = parseVersion(current);
  // A runtime that reports no Node-style version (none we know of) is let through: refusing it
  // would guess, and a real incompatibility still fails later with its own error.
  if (!found) return;
  if (compare(found, wanted) < 0) {
    throw new ConfigError(`e2e-migrations needs Node ≥ ${shortVersion(wanted)}, found ${current.startsWith('v') ? current : `v${current}`}`);
  }
}

type Version = readonly [major: number, minor: number, patch: number];

function parseVersion(text: string): Version | undefined {
  const match = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:[-+].*)?$/.exec(text.trim());
  if (!match) return undefined;
  return [Number(match[1]), Number(match[2] ?? 0), Number(match[3] ?? 0)];
}

function compare(a: Version, b: Version): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

/** 22.19.0 reads as "22.19", as package.json's engines field (>=22.19) says it. */
function shortVersion(version: Version): string {
  return version[2] === 0 ? `${version[0]}.${version[1]}` : version.join('.');
}
