import { asUser } from "../db/as_user.ts";
import type { Database } from "../db/types.ts";
import type { SearchService } from "../search/service.ts";
import { composeBrief, emptyBrief } from "./compose.ts";
import { type Brief, type BriefInput, DEFAULT_BRIEF_TOKENS } from "./schemas.ts";
import { readSections, resolveBriefScope, SECTION_LIMITS } from "./sources.ts";

/**
 * Session briefs for coding agents: given a repository and/or project, the files about to be
 * touched and the task, what the caller's memories say that matters there, within a token
 * budget (compose.ts). Stored sections are read as the user (row level security); the task's
 * matches come from the search service, so they share its cache and relevance floor. An unknown
 * project or repository gives an empty brief, never an error, and nothing is created.
 */
export class BriefService {
  constructor(readonly db: Database, readonly search: SearchService) {}

  async brief(userId: string, input: BriefInput): Promise<Brief> {
    const found = await asUser(this.db, userId, async (tx) => {
      const scope = await resolveBriefScope(tx, userId, input);
      return scope && { scope, sections: await readSections(tx, scope, input.paths ?? []) };
    });
    if (!found) return emptyBrief(null, "unknown");
    const project = found.scope.project?.ref ?? null;
    const task = input.task
      ? (await this.search.search(userId, {
        query: input.task,
        limit: SECTION_LIMITS.task,
        ...(project === null ? {} : { project }),
      })).hits
      : [];
    return composeBrief({
      project,
      sections: {
        ...found.sections,
        task: task.map((h) => ({ ...h, content_chars: h.content.length })),
      },
      maxTokens: input.max_tokens ?? DEFAULT_BRIEF_TOKENS,
    });
  }
}
