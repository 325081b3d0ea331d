import * as z from "zod";
import { type Principal, requireScope } from "../auth/authenticate.ts";
import { projectRef } from "../memory/schemas.ts";
import { type Member, ROLES, type TeamService } from "../memory/teams.ts";
import type { McpServer } from "./sdk.ts";
import { run } from "./tools.ts";

/**
 * Sharing a project is something a user asks their agent to do ("give bob@acme.com read access
 * to this project"), so it is a tool; renaming or deleting projects stays in REST/dashboards.
 */
export function registerTeamTools(server: McpServer, teams: TeamService, principal: Principal) {
  const userId = principal.userId;
  const project = projectRef.describe("Project slug (e.g. 'my-app') or id, from list_projects.");
  const email = z.email().max(320).describe("Email address of the person's Code Memory account.");

  server.registerTool("list_project_members", {
    title: "List project members",
    description: "Who has access to a project, with their roles (owner, writer, reader).",
    inputSchema: z.strictObject({ project }),
    annotations: { readOnlyHint: true, openWorldHint: false },
  }, (args) =>
    run(async () => {
      const { project, members } = await teams.listMembers(userId, args.project);
      return {
        text: `Members of ${project.slug}:\n${members.map(line).join("\n")}`,
        data: { project_id: project.id, members },
      };
    }));

  server.registerTool("share_project", {
    title: "Share project",
    description:
      "Give an existing user access to a project you own, or change their role: owner (full control incl. members), writer (read and write memories) or reader (read only). Only do this when the user asks.",
    inputSchema: z.strictObject({
      project,
      email,
      role: z.enum(ROLES).describe("The role to grant."),
    }),
    annotations: {
      readOnlyHint: false,
      destructiveHint: true, // may lower an existing member's role
      idempotentHint: true,
      openWorldHint: false,
    },
  }, (args) =>
    run(async () => {
      requireScope(principal, "write");
      const { project, member } = await teams.addMember(userId, args.project, args);
      return {
        text: `${member.email ?? member.user_id} is now ${member.role} of ${project.slug}.`,
        data: { project_id: project.id, member },
      };
    }));

  server.registerTool("unshare_project", {
    title: "Unshare project",
    description:
      "Remove someone's access to a project you own (or leave a project yourself by passing your own email). Their memories stay in the project.",
    inputSchema: z.strictObject({ project, email }),
    annotations: {
      readOnlyHint: false,
      destructiveHint: true,
      idempotentHint: true,
      openWorldHint: false,
    },
  }, (args) =>
    run(async () => {
      requireScope(principal, "write");
      const result = await teams.removeMember(userId, args.project, { email: args.email });
      return { text: `${args.email} no longer has access to ${args.project}.`, data: result };
    }));
}

const line = (m: Member) => `- ${m.email ?? m.user_id}: ${m.role}`;
