import { zValidator } from "@hono/zod-validator";
import type { Context, Next } from "hono";
import type * as z from "zod";
import type { Principal } from "../auth/authenticate.ts";
import { AppError, badRequest } from "../errors.ts";
import { formatIssues, uuid } from "../memory/schemas.ts";
import { isUtf8 } from "./utf8.ts";

/** Hono environment of the REST API: the authenticated caller is set by the auth middleware. */
export type ApiEnv = { Variables: { principal: Principal } };

/** The media types hono's validator parses as JSON: application/json and application/*+json. */
const JSON_MEDIA_TYPE = /^application\/([\w.-]+\+)?json$/i;

const unsupportedMediaType = (type: string) =>
  new AppError({
    status: 415,
    code: "unsupported_media_type",
    message: `Content-Type '${
      type.slice(0, 100)
    }' is not supported: send the body as application/json`,
  });

/**
 * A JSON body or none: another declared content type is a 415 (the validator would otherwise
 * see an empty object), and bytes that are not UTF-8 a 400 (decoding would store U+FFFD).
 */
async function requireJsonBody(c: Context): Promise<void> {
  const type = c.req.header("content-type");
  if (type !== undefined && !JSON_MEDIA_TYPE.test(type.split(";")[0].trim())) {
    throw unsupportedMediaType(type);
  }
  if (!isUtf8(await c.req.arrayBuffer())) {
    throw badRequest("Request body is not valid UTF-8: send JSON encoded as UTF-8");
  }
}

/** zod-validator with our error shape: 400 JSON naming each bad field (415 for a non-JSON body). */
export const valid = <T extends z.ZodType, Target extends "json" | "query">(
  target: Target,
  schema: T,
) => {
  const validate = zValidator(target, schema, (result) => {
    if (!result.success) {
      throw badRequest(
        `Invalid ${target === "json" ? "body" : "query"}: ${
          formatIssues(result.error as unknown as z.ZodError)
        }`,
      );
    }
  });
  if (target !== "json") return validate;
  const validateJson: typeof validate = async (c, next: Next) => {
    await requireJsonBody(c);
    return await validate(c, next);
  };
  return validateJson;
};

/** The caller's user id. */
export const userOf = (c: { get(k: "principal"): Principal }) => c.get("principal").userId;

/** A path parameter that must be a UUID, else 400 naming what it should identify. */
export function uuidParam(raw: string, what: string): string {
  const parsed = uuid.safeParse(raw);
  if (!parsed.success) throw badRequest(`Invalid ${what} id '${raw.slice(0, 80)}': must be a UUID`);
  return parsed.data;
}
