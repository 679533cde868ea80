/** The `message` of a Kubernetes `Status` carried by a client-node ApiException, or null. */
export function statusMessage(error: unknown): string | null {
  const body = (error as { body?: unknown }).body;
  const parsed = typeof body === 'string' ? safeJson(body) : body;
  const message = (parsed as { message?: unknown } | undefined)?.message;
  return typeof message === 'string' ? message : null;
}

/** The HTTP status code of a client-node ApiException, or undefined for other failures. */
export function statusCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
}

/** A short reason for an API failure: the Status message, else the error's own first line. */
export function apiReason(error: unknown): string {
  return statusMessage(error) ?? String((error as Error).message ?? error).split('\n')[0]!;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined; // not JSON: the caller falls back to the error's own message
  }
}
