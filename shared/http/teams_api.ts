import type { Hono } from "hono";
import { inviteSchema, setRoleSchema, TeamService, updateProjectSchema } from "../memory/teams.ts";
import { type ApiEnv, userOf, uuidParam, valid } from "./validate.ts";

/**
 * Shared projects, under the memories function (`:project` is a project ref: the slug of one
 * of your own projects, or a project's id):
 *   PATCH  /memories/projects/:project                   rename / describe (owner)
 *   DELETE /memories/projects/:project                   delete with all its memories (owner)
 *   GET    /memories/projects/:project/members           members with roles and emails
 *   PATCH  /memories/projects/:project/members/:user     change role { role } (owner)
 *   DELETE /memories/projects/:project/members/:user     remove (owner) or leave (yourself)
 *   GET    /memories/projects/:project/invitations       pending invitations (owner)
 *   POST   /memories/projects/:project/invitations       invite { email, role } (owner)
 *   DELETE /memories/projects/:project/invitations/:id   withdraw an invitation (owner)
 *   GET    /memories/invitations                         invitations waiting for your answer
 *   POST   /memories/invitations/:id/accept              join the project
 *   POST   /memories/invitations/:id/decline             say no
 */
export function registerTeamRoutes(app: Hono<ApiEnv>, teams: TeamService): void {
  const project = (raw: string) => raw.slice(0, 100);
  const member = (raw: string) => ({ userId: uuidParam(raw, "user") });
  const invitation = (raw: string) => uuidParam(raw, "invitation");

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

  app.get(
    "/projects/:project/invitations",
    async (c) => c.json(await teams.invitations(userOf(c), project(c.req.param("project")))),
  );
  app.post(
    "/projects/:project/invitations",
    valid("json", inviteSchema),
    async (c) =>
      c.json(
        await teams.invite(userOf(c), project(c.req.param("project")), c.req.valid("json")),
        201,
      ),
  );
  app.delete("/projects/:project/invitations/:id", async (c) =>
    c.json(
      await teams.withdraw(
        userOf(c),
        project(c.req.param("project")),
        invitation(c.req.param("id")),
      ),
    ));

  app.get("/invitations", async (c) => c.json({ invitations: await teams.incoming(userOf(c)) }));
  app.post(
    "/invitations/:id/accept",
    async (c) => c.json(await teams.accept(userOf(c), invitation(c.req.param("id")))),
  );
  app.post(
    "/invitations/:id/decline",
    async (c) => c.json(await teams.decline(userOf(c), invitation(c.req.param("id")))),
  );
}
