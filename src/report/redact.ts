/** Replaces every occurrence of each secret (and any URL password) with `***`. */
export function redact(text: string, secrets: Iterable<string> = []): string {
  let out = text.replace(/(postgres(?:ql)?:\/\/[^:/@\s]*:)[^@\s]+@/gi, '$1***@');
  for (const secret of secrets) {
    if (secret.length === 0) continue;
    // Also as it appears inside a URL, percent-encoded.
    for (const form of new Set([secret, encodeURIComponent(secret)])) out = out.split(form).join('***');
  }
  return out;
}

/** A connection URL with its password masked, for messages and logs. */
export function safeUrl(url: string | URL): string {
  const parsed = new URL(url.toString());
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}
