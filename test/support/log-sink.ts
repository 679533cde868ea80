import { connect } from 'node:net';
import type { LogSink } from '../../src/report/reporter.ts';

/** A logger that keeps every progress line, for assertions on what a run printed. */
export function collector(): LogSink & { text: () => string } {
  const lines: string[] = [];
  return { write: (chunk: string) => lines.push(chunk), text: () => lines.join('') };
}

/** Whether nothing listens on 127.0.0.1:port any more. */
export function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(false)));
    socket.once('error', () => resolve(true));
  });
}
