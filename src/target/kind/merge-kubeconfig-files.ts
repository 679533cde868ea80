import { readFileSync } from 'node:fs';
import { delimiter, dirname } from 'node:path';
import { KubeConfig, type Cluster, type Context, type User } from '@kubernetes/client-node';
import { ClusterError } from '../../errors/errors.ts';

export interface MergeKubeconfigOptions {
  /** Skip files that do not exist, as kubectl does for the entries of `$KUBECONFIG`. */
  readonly skipMissing: boolean;
}

export interface MergedKubeconfig {
  readonly kc: KubeConfig;
  /** The files that were read, in order (missing ones left out). */
  readonly files: readonly string[];
}

/**
 * Merges kubeconfig files the way kubectl (client-go's loading rules) merges `$KUBECONFIG`:
 * missing files are skipped, an empty file is an empty config, the first file to set
 * `current-context` wins, and a cluster, user or context named in two files keeps the first.
 *
 * client-node's `loadFromDefault` differs on each point: it throws on a missing file, throws
 * "Duplicate cluster" on a shared name, and lets the last file's current-context win. So each
 * file is parsed by client-node as `loadFromFile` does (`loadFromString`, then relative
 * certificate paths made absolute against that file's folder) and merged here.
 */
export function mergeKubeconfigFiles(files: readonly string[], options: MergeKubeconfigOptions): MergedKubeconfig {
  const clusters: Cluster[] = [];
  const users: User[] = [];
  const contexts: Context[] = [];
  let currentContext = '';
  const read: string[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' && options.skipMissing) continue;
      throw new ClusterError(`cannot read the kubeconfig ${file}: ${readFailure(error, file)}`, {}, { cause: error });
    }
    read.push(file);
    if (isBlank(text)) continue;
    const one = new KubeConfig();
    try {
      one.loadFromString(text);
      one.makePathsAbsolute(dirname(file));
    } catch (error) {
      throw new ClusterError(`cannot read the kubeconfig ${file}: ${(error as Error).message.split('\n')[0]}`, {}, { cause: error });
    }
    keepFirst(clusters, one.clusters);
    keepFirst(users, one.users);
    keepFirst(contexts, one.contexts);
    currentContext ||= one.currentContext ?? '';
  }
  const kc = new KubeConfig();
  kc.loadFromOptions({ clusters, users, contexts, currentContext });
  return Object.freeze({ kc, files: Object.freeze(read) });
}

function keepFirst<T extends { readonly name: string }>(into: T[], more: readonly T[]): void {
  for (const entry of more) {
    if (!into.some((known) => known.name === entry.name)) into.push(entry);
  }
}

/** Only whitespace and comments: js-yaml reads it as nothing, on which client-node would throw. */
function isBlank(text: string): boolean {
  return text.split('\n').every((line) => /^\s*(#.*)?$/.test(line));
}

function readFailure(error: unknown, file: string): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') {
    // kubectl's --kubeconfig is one file too; a list belongs in $KUBECONFIG.
    return file.includes(delimiter) ? `no such file ("kubeconfig" names one file; put a list in $KUBECONFIG)` : 'no such file';
  }
  if (code === 'EISDIR') return 'is a directory';
  if (code === 'EACCES') return 'permission denied';
  return (error as Error).message.split('\n')[0]!;
}
