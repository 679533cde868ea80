/** A `host:port` address: a host name, an IPv4 address or a bracketed IPv6 address, and a TCP port. */
export interface HostPort {
  /** IPv6 without brackets: `::1`. */
  readonly host: string;
  readonly port: number;
}

const HOST_PORT = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)):(\d{1,5})$/;

/**
 * Reads `host:port`; undefined when `text` is not one (no port, port 0 or above 65535, a bare
 * IPv6 address without brackets, a URL).
 *
 * @example
 * parseHostPort('127.0.0.1:25433'); // { host: '127.0.0.1', port: 25433 }
 * parseHostPort('[::1]:25433');     // { host: '::1', port: 25433 }
 */
export function parseHostPort(text: string): HostPort | undefined {
  const match = HOST_PORT.exec(text);
  if (!match) return undefined;
  const port = Number(match[3]);
  if (port < 1 || port > 65535) return undefined;
  return Object.freeze({ host: match[1] ?? match[2]!, port });
}

/** `host:port`, IPv6 in brackets. */
export function formatHostPort(address: HostPort): string {
  return `${address.host.includes(':') ? `[${address.host}]` : address.host}:${address.port}`;
}
