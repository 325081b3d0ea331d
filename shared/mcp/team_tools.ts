import * as z from "zod";
import { type Principal, requireScope } from "../auth/authenticate.ts";
import { createProjectShape, projectRef, uuid } from "../memory/schemas.ts";
import type { MemoryService } from "../memory/service.ts";
import { ROLES, type TeamService } from "../memory/teams.ts";
import { answer, Fence, formatMembers, formatProjects, formatShared } from "./format.ts";
import * as out from "./output.ts";
import type { McpServer } from "./sdk.ts";
import { run } from "./tools.ts";

const project = projectRef.describe(
  "Project ref from list_projects: your own project's slug, or a shared project's id.",
);
const email = z.email().max(320).describe("The person's email address.");
const invitation = uuid.describe("The invitation id, from list_projects.");
// The input schemas, built once (zod schemas are immutable): every per-request server shares them.
const listProjectsInput = z.strictObject({});
const createProjectInput = z.strictObject(createProjectShape);
const projectInput = z.strictObject({ project });
const shareInput = z.strictObject({
  project,
  email,
  role: z.enum(ROLES).describe("The role to grant."),
});
const unshareInput = z.strictObject({ project, email });
const invitationInput = z.strictObject({ invitation });

/**
 * Projects and sharing. Sharing is something a user asks their agent to do ("invite
 * bob@acme.com to this project"), so it is a tool; joining takes the invitee's own yes
 * (accept_invitation). Renaming or deleting projects stays in REST and dashboards.
 */
export function registerTeamTools(
  server: McpServer,
  service: MemoryService,
  teams: TeamService,
  principal: Principal,
) {
  const userId = principal.userId;

  server.registerTool("list_projects", {
    title: "List projects",
    description:
      "List the projects you can use, your own and those shared with you, with your role, how many memories each holds (and how many still wait for embedding), and the ref to pass as `project` (a bare name always means one of your own projects; a shared one is named by its id), plus invitations waiting for your answer. Memories saved without a project go to your default project.",
    inputSchema: listProjectsInput,
    outputSchema: out.listProjectsOutput,
    annotations: { readOnlyHint: true },
  }, () =>
    run(async () => {
      const projects = await service.listProjects(userId);
      const invitations = await teams.incoming(userId);
      return { text: formatProjects(projects, invitations), data: { projects, invitations } };
    }));

  server.registerTool("create_project", {
    title: "Create project",
    description:
      "Create one of your own projects, e.g. one per repository. Optional: saving to a new project name creates it too. Its slug (the ref to pass as `project`) is derived from the name ('Backend API' → 'backend-api') unless given.",
    inputSchema: createProjectInput,
    outputSchema: out.createProjectOutput,
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false },
  }, (args) =>
    run(async () => {
      requireScope(principal, "write");
      const project = await service.createProject(userId, args);
      const fence = new Fence();
      return {
        text: answer(fence, [
          `Created project ${project.ref} (id ${project.id}). Pass "${project.ref}" as project.`,
          fence.fields([["name", project.name], ["description", project.description]]),
        ]),
        data: { project },
      };
    }));

  server.registerTool("list_project_members", {
    title: "List project members",
    description: "Who has access to a project, with their roles (owner, writer, reader).",
    inputSchema: projectInput,
    outputSchema: out.membersOutput,
    annotations: { readOnlyHint: true, openWorldHint: false },
  }, (args) =>
    run(async () => {
      const { project, members } = await teams.listMembers(userId, args.project);
      return { text: formatMembers(project, members), data: { project_id: project.id, members } };
    }));

  server.registerTool("share_project", {
    title: "Share project",
    description:
      "Invite someone by email to a project you own, with a role: owner (full control incl. members), writer (read and write memories) or reader (read only). They get access only once they accept. If they already are a member, their role changes instead. Only do this when the user asks.",
    inputSchema: shareInput,
    outputSchema: out.shareOutput,
    annotations: {
      readOnlyHint: false,
      destructiveHint: true, // may lower an existing member's role
      idempotentHint: true,
      openWorldHint: false,
    },
  }, (args) =>
    run(async () => {
      requireScope(principal, "write");
      const result = await teams.share(userId, args.project, args);
      return {
        text: formatShared(result.project, result),
        data: { project_id: result.project.id, ...result },
      };
    }));

  server.registerTool("unshare_project", {
    title: "Unshare project",
    description:
      "Remove someone's access to a project you own, or withdraw their pending invitation (or leave a project yourself by passing your own email). Their memories stay in the project.",
    inputSchema: unshareInput,
    outputSchema: out.unshareOutput,
    annotations: {
      readOnlyHint: false,
      destructiveHint: true,
      idempotentHint: true,
      openWorldHint: false,
    },
  }, (args) =>
    run(async () => {
      requireScope(principal, "write");
      const result = await teams.unshare(userId, args.project, args.email);
      const text = "withdrawn" in result ? "Invitation withdrawn." : "Access removed.";
      return { text, data: result };
    }));

  server.registerTool("accept_invitation", {
    title: "Accept invitation",
    description:
      "Join a project you were invited to (see list_projects). Only do this when the user asks: its memories will be searched along with yours.",
    inputSchema: invitationInput,
    outputSchema: out.acceptOutput,
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false },
  }, (args) =>
    run(async () => {
      requireScope(principal, "write");
      const { project, member } = await teams.accept(userId, args.invitation);
      return {
        text:
          `Joined project ${project.ref} as ${member.role}. Pass "${project.ref}" as project to use it.`,
        data: { project, member },
      };
    }));

  server.registerTool("decline_invitation", {
    title: "Decline invitation",
    description: "Decline an invitation to a project (see list_projects).",
    inputSchema: invitationInput,
    outputSchema: out.declineOutput,
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false },
  }, (args) =>
    run(async () => {
      requireScope(principal, "write");
      const result = await teams.decline(userId, args.invitation);
      return { text: `Declined invitation ${args.invitation}.`, data: result };
    }));
}
