import type { AppContext } from "./context.ts";
import type { Handler } from "./edge_function.ts";
import { analytics } from "./functions/analytics.ts";
import { embed } from "./functions/embed.ts";
import { mcp } from "./functions/mcp.ts";
import { memories } from "./functions/memories.ts";

export type { Handler } from "./edge_function.ts";

/** The functions supabase/config.toml deploys. */
export type FunctionName = "mcp" | "memories" | "embed" | "analytics";

/**
 * Every Edge Function by name, as the embedded stack serves them (gateway.ts): each one can be
 * built from the stack's full context. A deployed function imports only its own module
 * (functions/<name>/index.ts), never this registry.
 */
export const FUNCTIONS = { mcp, memories, embed, analytics } satisfies {
  readonly [N in FunctionName]: { handler(ctx: AppContext): Handler };
};
