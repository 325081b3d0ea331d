import * as z from "zod";
import type { Principal } from "../auth/authenticate.ts";
import { briefOutputSchema, briefSchema, briefShape } from "../brief/schemas.ts";
import type { BriefService } from "../brief/service.ts";
import { toAppError } from "../errors.ts";
import { listProjects } from "../memory/projects.ts";
import { formatIssues, uuid } from "../memory/schemas.ts";
import type { MemoryService } from "../memory/service.ts";
import { formatMemory } from "./format.ts";
import {
  ErrorCode,
  type GetPromptResult,
  McpError,
  type McpServer,
  type ReadResourceResult,
  ResourceTemplate,
} from "./sdk.ts";
import { run } from "./tools.ts";

const BRIEF_URI = "memory://projects/{project}/brief";
const MEMORY_URI = "memory://memories/{id}";
/** How many of the newest memories resources/list names (the template reaches all of them). */
const LISTED_MEMORIES = 20;

/**
 * The session_brief prompt's arguments (prompt arguments are strings), built once: every
 * per-request server shares them.
 */
const promptArgs = {
  repo: z.string().optional().describe(briefShape.repo.description!),
  project: z.string().optional().describe(briefShape.project.description!),
  paths: z.string().optional().describe("Files you will touch, separated by commas or new lines."),
  task: z.string().optional().describe(briefShape.task.description!),
};

/**
 * The session brief for one caller on a (per-request) MCP server: the get_session_brief tool,
 * the session_brief prompt that puts a brief into the conversation, and resources for a
 * project's brief and for one memory (listed, readable, and as URI templates).
 */
export function registerBriefTools(
  server: McpServer,
  service: MemoryService,
  briefs: BriefService,
  principal: Principal,
): void {
  const userId = principal.userId;

  server.registerTool("get_session_brief", {
    title: "Get session brief",
    description:
      "Call at the start of a session: what your memory knows that matters for this work, in a compact brief within a token budget — the repo/project's conventions and preferences, recent decisions, what is known about the files you name (bugs and fixes first), and the memories closest to your task. Each item has its id for get_memory. An unknown repo or project gives an empty brief.",
    inputSchema: briefSchema,
    outputSchema: briefOutputSchema,
    annotations: { readOnlyHint: true, openWorldHint: false },
  }, (args) =>
    run(async () => {
      const brief = await briefs.brief(userId, args);
      return { text: brief.text, data: brief };
    }));

  server.registerPrompt("session_brief", {
    title: "Session brief",
    description:
      "Start a coding session with what Code Memory knows about this repository or project, the files you will touch and your task.",
    argsSchema: promptArgs,
  }, async (args): Promise<GetPromptResult> => {
    const paths = args.paths?.split(/[,\n]/).map((p) => p.trim()).filter(Boolean);
    const blank = (v: string | undefined) => (v?.trim() ? v : undefined);
    const parsed = briefSchema.safeParse({
      repo: blank(args.repo),
      project: blank(args.project),
      task: blank(args.task),
      ...(paths?.length ? { paths } : {}),
    });
    if (!parsed.success) {
      throw new McpError(ErrorCode.InvalidParams, `session_brief: ${formatIssues(parsed.error)}`);
    }
    const brief = await mcpErrors(() => briefs.brief(userId, parsed.data));
    return {
      description: `Session brief (${brief.items.length} memories, about ${brief.tokens} tokens)`,
      messages: [{
        role: "user",
        content: {
          type: "text",
          text:
            `${brief.text}\n\nKeep this in mind for the session; call get_memory(id) for an item in full, search_memories for anything else, and save_memory for what you learn.`,
        },
      }],
    };
  });

  server.registerResource(
    "project_brief",
    new ResourceTemplate(BRIEF_URI, {
      list: () =>
        mcpErrors(async () => ({
          resources: (await service.asUser(userId, listProjects)).map((p) => ({
            uri: briefUri(p.ref),
            name: `brief-${p.ref}`,
            title: `Session brief of project ${p.ref}`,
            mimeType: "text/markdown",
          })),
        })),
    }),
    {
      title: "Project session brief",
      description:
        "A project's conventions, preferences and recent decisions, as get_session_brief gives them.",
      mimeType: "text/markdown",
    },
    (uri, { project }): Promise<ReadResourceResult> =>
      mcpErrors(async () => {
        const brief = await briefs.brief(userId, { project: String(project) });
        return { contents: [{ uri: uri.href, mimeType: "text/markdown", text: brief.text }] };
      }),
  );

  server.registerResource(
    "memory",
    new ResourceTemplate(MEMORY_URI, {
      list: () =>
        mcpErrors(async () => ({
          resources: (await service.list(userId, { limit: LISTED_MEMORIES })).items.map((m) => ({
            uri: `memory://memories/${m.id}`,
            // Names are shown to people choosing a resource: the id, never stored text.
            name: m.id,
            title: `${m.kind} memory ${m.id} (project ${m.project})`,
            mimeType: "text/plain",
          })),
        })),
    }),
    {
      title: "Memory",
      description:
        `One memory in full, its stored text fenced. resources/list names the ${LISTED_MEMORIES} newest.`,
      mimeType: "text/plain",
    },
    (uri, { id }): Promise<ReadResourceResult> =>
      mcpErrors(async () => {
        const parsed = uuid.safeParse(String(id));
        if (!parsed.success) {
          throw new McpError(
            ErrorCode.InvalidParams,
            `Invalid memory id in ${uri.href}: must be a UUID`,
          );
        }
        const memory = await service.get(userId, parsed.data);
        return {
          contents: [{ uri: uri.href, mimeType: "text/plain", text: formatMemory(memory) }],
        };
      }),
  );
}

const briefUri = (ref: string) => `memory://projects/${encodeURIComponent(ref)}/brief`;

/** Our errors as JSON-RPC errors with a useful message (prompts and resources have no isError). */
async function mcpErrors<T>(body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (thrown) {
    if (thrown instanceof McpError) throw thrown;
    const err = toAppError(thrown);
    if (err.status >= 500) throw thrown;
    throw new McpError(ErrorCode.InvalidParams, err.message);
  }
}
