/**
 * The WWW-Authenticate value of a 401 (RFC 6750 §3), optionally pointing at the resource's
 * RFC 9728 metadata so an MCP client can discover where to obtain a token.
 */
export function bearerChallenge(opts: {
  resourceMetadata?: string;
  error?: "invalid_token" | "invalid_request";
  description?: string;
}): string {
  const params: [string, string | undefined][] = [
    ["realm", "codememory"],
    ["resource_metadata", opts.resourceMetadata],
    ["error", opts.error],
    ["error_description", opts.description],
  ];
  return "Bearer " + params.filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}="${quotable(v!)}"`).join(", ");
}

/** RFC 6750 restricts error_description to printable ASCII without `"` and `\`. */
const quotable = (value: string) =>
  value.replace(/[^\x20-\x7e]/g, "").replace(/["\\]/g, "'").slice(0, 200);
