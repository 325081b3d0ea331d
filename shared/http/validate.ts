import { zValidator } from "@hono/zod-validator";
import type { z } from "zod";
import type { Principal } from "../auth/authenticate.ts";
import { badRequest } from "../errors.ts";
import { formatIssues, uuid } from "../memory/schemas.ts";

/** Hono environment of the REST API: the authenticated caller is set by the auth middleware. */
export type ApiEnv = { Variables: { principal: Principal } };

/** zod-validator with our error shape: 400 JSON naming each bad field. */
export const valid = <T extends z.ZodType, Target extends "json" | "query">(
  target: Target,
  schema: T,
) =>
  zValidator(target, schema, (result) => {
    if (!result.success) {
      throw badRequest(
        `Invalid ${target === "json" ? "body" : "query"}: ${
          formatIssues(result.error as unknown as z.ZodError)
        }`,
      );
    }
  });

/** The caller's user id. */
export const userOf = (c: { get(k: "principal"): Principal }) => c.get("principal").userId;

/** A path parameter that must be a UUID, else 400 naming what it should identify. */
export function uuidParam(raw: string, what: string): string {
  const parsed = uuid.safeParse(raw);
  if (!parsed.success) throw badRequest(`Invalid ${what} id '${raw.slice(0, 80)}': must be a UUID`);
  return parsed.data;
}
