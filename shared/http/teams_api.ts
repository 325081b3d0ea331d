import type { Hono } from "hono";
import {
  addMemberSchema,
  setRoleSchema,
  TeamService,
  updateProjectSchema,
} from "../memory/teams.ts";
import { type ApiEnv, userOf, uuidParam, valid } from "./validate.ts";

/**
 * Shared projects, under the memories function (`:project` is a project id or slug):
 *   PATCH  /memories/projects/:project                  rename / describe (owner)
 *   DELETE /memories/projects/:project                  delete with all its memories (owner)
 *   GET    /memories/projects/:project/members          members with roles and emails
 *   POST   /memories/projects/:project/members          add by email { email, role } (owner)
 *   PATCH  /memories/projects/:project/members/:user    change role { role } (owner)
 *   DELETE /memories/projects/:project/members/:user    remove (owner) or leave (yourself)
 */
export function registerTeamRoutes(app: Hono<ApiEnv>, teams: TeamService): void {
  const project = (raw: string) => raw.slice(0, 100);
  const member = (raw: string) => ({ userId: uuidParam(raw, "user") });

  app.patch("/projects/:project", valid("json", updateProjectSchema), async (c) =>
    c.json({
      project: await teams.renameProject(
        userOf(c),
        project(c.req.param("project")),
        c.req.valid("json"),
      ),
    }));
  app.delete(
    "/projects/:project",
    async (c) => c.json(await teams.deleteProject(userOf(c), project(c.req.param("project")))),
  );

  app.get(
    "/projects/:project/members",
    async (c) => c.json(await teams.listMembers(userOf(c), project(c.req.param("project")))),
  );
  app.post(
    "/projects/:project/members",
    valid("json", addMemberSchema),
    async (c) =>
      c.json(
        await teams.addMember(userOf(c), project(c.req.param("project")), c.req.valid("json")),
        201,
      ),
  );
  app.patch("/projects/:project/members/:user", valid("json", setRoleSchema), async (c) =>
    c.json(
      await teams.setRole(
        userOf(c),
        project(c.req.param("project")),
        member(c.req.param("user")),
        c.req.valid("json").role,
      ),
    ));
  app.delete(
    "/projects/:project/members/:user",
    async (c) =>
      c.json(
        await teams.removeMember(
          userOf(c),
          project(c.req.param("project")),
          member(c.req.param("user")),
        ),
      ),
  );
}
