import * as z from "zod";
import { asUser } from "../db/as_user.ts";
import type { Database, Queryable } from "../db/types.ts";
import { badRequest, conflict, forbidden, notFound } from "../errors.ts";
import { resolveProject } from "./projects.ts";
import { iso, PROJECT_COLUMNS, toProject } from "./rows.ts";
import { createProjectShape } from "./schemas.ts";
import type { Project } from "./types.ts";

/**
 * Shared projects: members, roles and the project's own lifecycle. Row level security and the
 * teams migration enforce every rule; the checks here only turn a refusal into a message that
 * says why (who may do what) instead of an empty result.
 */

export const ROLES = ["owner", "writer", "reader"] as const;
export type Role = typeof ROLES[number];

export interface Member {
  user_id: string;
  email: string | null;
  role: Role;
  added_at: string;
}

const role = z.enum(ROLES).describe(
  "owner: everything incl. members; writer: read and write memories; reader: read only.",
);
const email = z.email({ message: "must be an email address" }).max(320).describe(
  "Email of an existing user.",
);

export const addMemberSchema = z.strictObject({ email, role: role.default("reader") });
export const setRoleSchema = z.strictObject({ role });
export const updateProjectSchema = z.strictObject({
  name: createProjectShape.name.optional(),
  slug: createProjectShape.slug,
  description: createProjectShape.description.nullable(),
}).refine((p) => Object.values(p).some((v) => v !== undefined), "pass name, slug or description");
export type UpdateProjectInput = z.infer<typeof updateProjectSchema>;

/** Whom a removal or role change is about: a user id (REST) or an email (MCP). */
export type MemberRef = { userId: string } | { email: string };

const NEEDS_OWNER = "project_needs_owner";

/**
 * Who may see different memories after a change: these users, in this project. Cached search
 * results depend on it, so the app context retires them (as for memory writes).
 */
export type AccessListener = (event: { projectId: string; userIds: string[] }) => Promise<void>;

export class TeamService {
  #listeners: AccessListener[] = [];

  constructor(readonly db: Database) {}

  onAccessChange(listener: AccessListener): void {
    this.#listeners.push(listener);
  }

  async #changed<T>(result: T, projectId: string, userIds: string[]): Promise<T> {
    for (const listener of this.#listeners) await listener({ projectId, userIds });
    return result;
  }

  listMembers(
    userId: string,
    projectRef: string,
  ): Promise<{ project: Project; members: Member[] }> {
    return asUser(this.db, userId, async (tx) => {
      const project = await resolveProject(tx, userId, projectRef);
      return { project, members: await members(tx, project.id) };
    });
  }

  /** Adds a user by email, or changes their role when they already are a member. */
  async addMember(
    userId: string,
    projectRef: string,
    input: { email: string; role: Role },
  ): Promise<{ project: Project; member: Member }> {
    const done = await asUser(this.db, userId, async (tx) => {
      const project = await owned(tx, userId, projectRef, "add members");
      const [row] = await tx.query<{ user_id: string }>(
        "select user_id from public.add_project_member($1, $2, $3)",
        [project.id, input.email, input.role],
      ).catch((err) => {
        if (err?.code === "P0002") {
          throw notFound(`No user with email '${input.email}': they need to sign up first`);
        }
        throw mapped(err);
      });
      const [member] = await members(tx, project.id, row.user_id);
      return { project, member };
    });
    return await this.#changed(done, done.project.id, [done.member.user_id]);
  }

  async setRole(
    userId: string,
    projectRef: string,
    who: MemberRef,
    newRole: Role,
  ): Promise<{ project: Project; member: Member }> {
    const done = await asUser(this.db, userId, async (tx) => {
      const project = await owned(tx, userId, projectRef, "change roles");
      const target = await memberOf(tx, project, who);
      await tx.query(
        "update project_members set role = $3 where project_id = $1 and user_id = $2",
        [project.id, target.user_id, newRole],
      ).catch((err) => {
        throw mapped(err);
      });
      const [member] = await members(tx, project.id, target.user_id);
      return { project, member };
    });
    return await this.#changed(done, done.project.id, [done.member.user_id]);
  }

  /** Owners remove anyone; every member may remove themselves (leave). */
  async removeMember(
    userId: string,
    projectRef: string,
    who: MemberRef,
  ): Promise<{ project_id: string; user_id: string; removed: true }> {
    const done = await asUser(this.db, userId, async (tx) => {
      const project = await resolveProject(tx, userId, projectRef);
      const target = await memberOf(tx, project, who);
      if (target.user_id !== userId && project.role !== "owner") {
        throw onlyOwner(project, "remove other members");
      }
      await tx.query(
        "delete from project_members where project_id = $1 and user_id = $2",
        [project.id, target.user_id],
      ).catch((err) => {
        throw mapped(err);
      });
      return { project_id: project.id, user_id: target.user_id, removed: true as const };
    });
    return await this.#changed(done, done.project_id, [done.user_id]);
  }

  renameProject(userId: string, projectRef: string, patch: UpdateProjectInput): Promise<Project> {
    return asUser(this.db, userId, async (tx) => {
      const project = await owned(tx, userId, projectRef, "rename the project");
      const sets: string[] = [];
      const params: unknown[] = [project.id];
      for (const [column, value] of Object.entries(patch)) {
        if (value !== undefined) sets.push(`${column} = $${params.push(value)}`);
      }
      await tx.query(`update projects set ${sets.join(", ")} where id = $1`, params)
        .catch((err) => {
          if (err?.code === "23505") throw conflict(`Slug '${patch.slug}' is already taken`);
          throw mapped(err);
        });
      const [row] = await tx.query(
        `select ${PROJECT_COLUMNS} from projects p
         join project_members pm on pm.project_id = p.id and pm.user_id = auth.uid()
         where p.id = $1`,
        [project.id],
      );
      return toProject(row);
    });
  }

  /** Deletes the project with all its memories and memberships. */
  async deleteProject(userId: string, projectRef: string): Promise<{ id: string; deleted: true }> {
    const done = await asUser(this.db, userId, async (tx) => {
      const project = await owned(tx, userId, projectRef, "delete the project");
      await tx.query("delete from projects where id = $1", [project.id]);
      return { id: project.id, deleted: true as const };
    });
    // The project's own counter retires every member's results that included it.
    return await this.#changed(done, done.id, []);
  }
}

async function members(tx: Queryable, projectId: string, only?: string): Promise<Member[]> {
  const rows = await tx.query<Record<string, unknown>>(
    `select user_id, email, role, added_at from public.list_project_members($1)
     where $2::uuid is null or user_id = $2::uuid`,
    [projectId, only ?? null],
  );
  return rows.map((r) => ({
    user_id: String(r.user_id),
    email: r.email == null ? null : String(r.email),
    role: r.role as Role,
    added_at: iso(r.added_at)!,
  }));
}

async function memberOf(tx: Queryable, project: Project, who: MemberRef): Promise<Member> {
  const all = await members(tx, project.id);
  const found = "userId" in who
    ? all.find((m) => m.user_id === who.userId.toLowerCase())
    : all.find((m) => m.email?.toLowerCase() === who.email.trim().toLowerCase());
  if (!found) {
    const name = "userId" in who ? `User ${who.userId}` : `'${who.email}'`;
    throw notFound(`${name} is not a member of project '${project.slug}'`);
  }
  return found;
}

/** The project, if the caller owns it; else 403 saying that only an owner may do this. */
async function owned(
  tx: Queryable,
  userId: string,
  projectRef: string,
  action: string,
): Promise<Project> {
  const project = await resolveProject(tx, userId, projectRef);
  if (project.role !== "owner") throw onlyOwner(project, action);
  return project;
}

const onlyOwner = (project: Project, action: string) =>
  forbidden(
    `Only an owner can ${action} (project '${project.slug}', where your role is ${project.role})`,
  );

/** Database refusals of team operations, as messages a person or a model can act on. */
function mapped(err: unknown): unknown {
  const e = err as { code?: string; constraint?: string; constraint_name?: string };
  const constraint = e?.constraint ?? e?.constraint_name;
  if (e?.code === "23514" && constraint === NEEDS_OWNER) {
    return conflict(
      "A project needs at least one owner: make another member an owner first, or delete the project",
    );
  }
  if (e?.code === "22023") return badRequest("Unknown role: use owner, writer or reader");
  if (e?.code === "42501") return forbidden("You do not have permission to do that");
  return err;
}
