import type { RunDirectory } from './run-directory.ts';

/** initdb's command line: the cluster of `run`, its superuser `user`, password from the run's file. */
export function initdbArguments(run: RunDirectory, user: string): string[] {
  return [
    `--pgdata=${run.data}`,
    `--username=${user}`,
    `--pwfile=${run.passwordFile}`,
    // Passwords are required over TCP and from the (disabled) socket alike.
    '--auth=scram-sha-256',
    // Fixed, so that every machine sorts and compares text alike, whatever its locale.
    '--encoding=UTF8',
    '--locale=C',
    // The cluster is deleted at close: flushing it to disk buys nothing.
    '--no-sync',
    '--no-instructions',
  ];
}

/** postgres's command line: serve `run`'s cluster on 127.0.0.1:`port`. */
export function serverArguments(run: RunDirectory, port: number): string[] {
  return [
    '-D',
    run.data,
    '-p',
    String(port),
    '-c',
    'listen_addresses=127.0.0.1',
    // No Unix socket: its file would sit in a shared folder, and TCP is all we use.
    '-c',
    'unix_socket_directories=',
    // Throwaway data: durability costs time and buys nothing.
    '-c',
    'fsync=off',
    '-c',
    'synchronous_commit=off',
    '-c',
    'full_page_writes=off',
  ];
}
