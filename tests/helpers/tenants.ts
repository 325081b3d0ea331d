/** Two tenants side by side, as the search-at-scale tests need them. */
import type { Database } from "../../shared/db/types.ts";
import { MemoryService } from "../../shared/memory/service.ts";
import { newTestUser } from "./users.ts";

/** The caller (`me`, project `mine`) and another tenant (`other`, project `theirs`): ids. */
export interface TwoTenants {
  me: string;
  other: string;
  mine: string;
  theirs: string;
}

/** Two new users with one project each; `label` starts their emails. */
export async function twoTenants(db: Database, label: string): Promise<TwoTenants> {
  const service = new MemoryService(db);
  const me = await newTestUser(db, label);
  const other = await newTestUser(db, `${label}-other`);
  const mine = await service.createProject(me, { name: "mine", slug: "mine" });
  const theirs = await service.createProject(other, { name: "theirs", slug: "theirs" });
  return { me, other, mine: mine.id, theirs: theirs.id };
}
