/**
 * Small helpers shared by the foundation_*_test.ts files: REST calls that always consume the
 * body, MCP sessions that always close, and SQL error expectations.
 */
import assert from "node:assert/strict";
import type { Memory, Project } from "../../shared/memory/types.ts";
import { testEachBackend } from "./db.ts";
import { connectMcp } from "./mcp.ts";
import { type TestStack, type TestUser, withStack } from "./stack.ts";

export const MEMORIES = "/functions/v1/memories";
export const MCP = "/functions/v1/mcp";

/** Registers a test per backend that gets a started stack, closed afterwards. */
export function stackTest(name: string, fn: (stack: TestStack) => Promise<void>): void {
  testEachBackend(name, (backend) => withStack(backend, fn));
}

// ---------------------------------------------------------------------------------------------
// REST

export interface Reply<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
}

/** A REST call as `user` (null: no credentials); the body is always read (JSON, else text). */
export async function call<T = Record<string, unknown>>(
  stack: TestStack,
  user: TestUser | null,
  method: string,
  path: string,
  json?: unknown,
): Promise<Reply<T>> {
  const res = await stack.api(user, path, { method, json });
  return await reply<T>(res);
}

/** Reads a response once: parsed JSON when it is JSON, else `{ text }`. */
export async function reply<T = Record<string, unknown>>(res: Response): Promise<Reply<T>> {
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = { text };
  }
  return { status: res.status, headers: res.headers, body: body as T };
}

/** Saves over REST and asserts it was created (201); returns the memory. */
export async function saveMemory(
  stack: TestStack,
  user: TestUser,
  input: Record<string, unknown>,
): Promise<Memory> {
  const r = await call<{ memory: Memory; duplicate: boolean }>(
    stack,
    user,
    "POST",
    MEMORIES,
    input,
  );
  assert.equal(r.status, 201, JSON.stringify(r.body));
  assert.equal(r.body.duplicate, false);
  return r.body.memory;
}

/** Fields the embed pipeline (or access tracking) may change in the background. */
const BACKGROUND_FIELDS = [
  "embedding_status",
  "embedding_model",
  "last_accessed_at",
  "access_count",
];

/** Asserts two memories are equal in everything a client wrote or the write itself set. */
export function assertSameMemory(actual: Memory, expected: Memory, message?: string): void {
  const strip = (m: Memory) =>
    Object.fromEntries(Object.entries(m).filter(([k]) => !BACKGROUND_FIELDS.includes(k)));
  assert.deepEqual(strip(actual), strip(expected), message);
}

/** Creates a project over REST and asserts 201. */
export async function createProject(
  stack: TestStack,
  user: TestUser,
  input: { name: string; slug?: string; description?: string },
): Promise<Project> {
  const r = await call<{ project: Project }>(stack, user, "POST", `${MEMORIES}/projects`, input);
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body.project;
}

/** A unique, valid project slug. */
export const uniqueSlug = (prefix = "p") => `${prefix}-${crypto.randomUUID().slice(0, 8)}`;

/**
 * Asserts the documented error shape `{ error: { code, message } }` with a JSON content type,
 * the expected status, and a message matching `pattern`.
 */
export function assertError(r: Reply, status: number, pattern?: RegExp, label = ""): void {
  const detail = `${label ? `${label}: ` : ""}${r.status} ${JSON.stringify(r.body).slice(0, 500)}`;
  assert.equal(r.status, status, detail);
  assert.match(r.headers.get("content-type") ?? "", /application\/json/, detail);
  const error = (r.body as { error?: { code?: unknown; message?: unknown } }).error;
  assert.equal(typeof error?.code, "string", detail);
  assert.equal(typeof error?.message, "string", detail);
  if (pattern) assert.match(String(error?.message), pattern, detail);
}

// ---------------------------------------------------------------------------------------------
// MCP

export type McpClient = Awaited<ReturnType<typeof connectMcp>>;

export interface ToolResult {
  content?: { type: string; text?: string }[];
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
}

/** Runs fn with the SDK's real client connected as `user`; always closes it. */
export async function withMcp<T>(
  stack: TestStack,
  user: TestUser,
  fn: (client: McpClient) => Promise<T>,
): Promise<T> {
  const client = await connectMcp(stack, user);
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

/** Calls a tool and returns its result with the text parts joined. */
export async function callTool(
  client: McpClient,
  name: string,
  args: Record<string, unknown> = {},
): Promise<ToolResult & { text: string }> {
  const result = await client.callTool({ name, arguments: args }) as ToolResult;
  const text = (result.content ?? []).map((c) => c.text ?? "").join("\n");
  return { ...result, text };
}

/** Asserts a tool call succeeded (no isError) and returns it. */
export async function callToolOk(
  client: McpClient,
  name: string,
  args: Record<string, unknown> = {},
): Promise<ToolResult & { text: string; structuredContent: Record<string, unknown> }> {
  const result = await callTool(client, name, args);
  assert.notEqual(result.isError, true, `${name} failed: ${result.text}`);
  assert.ok(result.structuredContent, `${name} returned no structuredContent`);
  return result as ToolResult & { text: string; structuredContent: Record<string, unknown> };
}

/** Asserts a tool call failed as an isError result whose text matches `pattern`. */
export async function assertToolError(
  client: McpClient,
  name: string,
  args: Record<string, unknown>,
  pattern: RegExp,
): Promise<void> {
  const result = await callTool(client, name, args);
  assert.equal(result.isError, true, `${name} ${JSON.stringify(args).slice(0, 200)} succeeded`);
  assert.match(result.text, pattern);
}

// ---------------------------------------------------------------------------------------------
// SQL

/** Asserts the promise rejects with the Postgres SQLSTATE `code` (e.g. 42501). */
export async function assertPgError(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (err: { code?: string; message?: string }) => {
    assert.equal(err.code, code, `expected SQLSTATE ${code}, got ${err.code}: ${err.message}`);
    return true;
  });
}
