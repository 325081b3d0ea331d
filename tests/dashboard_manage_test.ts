/**
 * The dashboard's keys, team and "Connect an agent" views in headless Chromium (Debian's
 * /usr/bin/chromium, driven by playwright-core), against a test stack: a key created in the page
 * works over MCP with the SDK's real client until it is revoked in the page, then it is a 401; an
 * owner invites a teammate, who accepts one invitation and declines another; the connect panel
 * renders each client's configuration with the stack's MCP URL and a fresh key that works.
 * Saves bench-results/dashboard-keys.png, dashboard-connect.png and dashboard-team.png.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { chromium, type Page } from "playwright-core";
import { testEachBackend } from "./helpers/db.ts";
import { mcpInitialize, withToken } from "./helpers/auth.ts";
import { callToolOk, createProject, withMcp } from "./helpers/foundation.ts";
import { type TestStack, type TestUser, withStack } from "./helpers/stack.ts";

const CHROMIUM = "/usr/bin/chromium";
const SHOTS = new URL("../bench-results/", import.meta.url);
const KEY_PATTERN = /^cm_[A-Za-z0-9_-]{43}$/;

async function launch() {
  return await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
    ],
  });
}

async function signIn(page: Page, stack: TestStack, user: TestUser) {
  await page.goto(`${stack.url}/dashboard`);
  await page.fill("#key-form input[name=key]", user.key);
  await page.click("#key-form button[type=submit]");
  await page.locator("#views").waitFor({ state: "visible" });
}

async function signOut(page: Page) {
  await page.click("#sign-out");
  await page.locator("#sign-in").waitFor({ state: "visible" });
}

type Clipboarded = { navigator: { clipboard: { readText(): Promise<string> } } };

testEachBackend(
  "dashboard: create a key, use it over MCP, revoke it in the page",
  async (backend) => {
    await withStack(backend, async (stack) => {
      const user = await stack.newUser();
      await createProject(stack, user, { name: "Web app", slug: "web-app" });
      const browser = await launch();
      try {
        const page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
        const problems: string[] = [];
        page.on("pageerror", (err) => problems.push(err.message));
        page.on("console", (msg) => msg.type() === "error" && problems.push(msg.text()));
        await signIn(page, stack, user);

        await page.click("#views [data-view=keys]");
        // The key this browser signed in with is listed and marked.
        await page.locator("#keys-table tbody tr", { hasText: "this browser" }).waitFor();
        assert.equal(await page.locator("#kpi-searches").isVisible(), false, "insights hidden");

        await page.fill("#key-create-form input[name=name]", "ci-agent");
        await page.uncheck("#key-create-form input[value=write]");
        await page.selectOption("#key-create-form select[name=days]", "30");
        await page.click("#key-create-form button[type=submit]");
        const secret = (await page.locator("#new-key-value").textContent())!;
        assert.match(secret, KEY_PATTERN);
        assert.match((await page.textContent("#new-key"))!, /not shown again/);
        const row = page.locator("#keys-table tbody tr", { hasText: "ci-agent" });
        await row.waitFor();
        assert.match((await row.textContent())!, new RegExp(`${secret.slice(0, 10)}…`));
        assert.match((await row.textContent())!, /read/);
        assert.doesNotMatch((await row.textContent())!, /write/);
        // The secret is in the page once: the list shows only its prefix.
        assert.equal((await page.content()).split(secret).length - 1, 1);

        // The shown key works over MCP (read scope: search yes).
        await withMcp(stack, withToken(user, secret), async (client) => {
          const found = await callToolOk(client, "list_projects");
          assert.match(found.text, /web-app/);
        });
        if (backend === "pglite") {
          await Deno.mkdir(SHOTS, { recursive: true });
          await page.screenshot({ path: new URL("dashboard-keys.png", SHOTS).pathname });
        }

        // Revoked in the page: the next request with it is a 401.
        await row.locator("button[data-revoke]").click();
        await row.locator(".pill", { hasText: "revoked" }).waitFor();
        await page.locator("#keys-status", { hasText: "Revoked 'ci-agent'" }).waitFor();
        assert.equal((await mcpInitialize(stack, `Bearer ${secret}`)).status, 401);
        await assert.rejects(
          withMcp(stack, withToken(user, secret), () => Promise.resolve()),
          /Invalid, expired or revoked API key/,
        );
        // The browser's own key still works.
        assert.equal((await mcpInitialize(stack, `Bearer ${user.key}`)).status, 200);
        // Signed out and in again in the same page (another user): no earlier secret is left.
        await signOut(page);
        await page.fill("#key-form input[name=key]", (await stack.newUser()).key);
        await page.click("#key-form button[type=submit]");
        await page.locator("#views").waitFor({ state: "visible" });
        await page.click("#views [data-view=keys]");
        await page.locator("#keys-table tbody tr", { hasText: "this browser" }).waitFor();
        assert.equal((await page.content()).includes(secret), false);
        assert.equal(await page.locator("#new-key").isVisible(), false);
        assert.deepEqual(problems, []);
      } finally {
        await browser.close();
      }
    });
  },
  { ignore: !existsSync(CHROMIUM), sanitizeResources: false, sanitizeOps: false },
);

testEachBackend("dashboard: connect an agent with a fresh key", async (backend) => {
  await withStack(backend, async (stack) => {
    const user = await stack.newUser();
    const browser = await launch();
    try {
      const context = await browser.newContext({ viewport: { width: 1360, height: 1000 } });
      await context.grantPermissions(["clipboard-read", "clipboard-write"], {
        origin: stack.url,
      });
      const page = await context.newPage();
      await signIn(page, stack, user);
      await page.click("#views [data-view=connect]");
      const mcpUrl = `${stack.url}/functions/v1/mcp`;
      assert.equal(await page.textContent("#connect-url"), mcpUrl);

      await page.fill("#connect-form input[name=name]", "claude-laptop");
      await page.click("#connect-form button[type=submit]");
      await page.locator("#connect-configs [data-client]").first().waitFor();
      const key = (await page.textContent("#connect-key-value"))!;
      assert.match(key, KEY_PATTERN);
      assert.deepEqual(
        await page.$$eval(
          "#connect-configs [data-client]",
          (els) => els.map((e) => e.getAttribute("data-client")),
        ),
        ["claude-code", "cursor", "vscode", "claude-desktop", "supabase-js"],
      );
      assert.equal(
        await page.textContent("#config-claude-code"),
        `claude mcp add --transport http code-memory ${mcpUrl} \\\n` +
          `  --header 'Authorization: Bearer ${key}'`,
      );
      assert.deepEqual(JSON.parse((await page.textContent("#config-cursor"))!), {
        mcpServers: {
          "code-memory": { url: mcpUrl, headers: { Authorization: `Bearer ${key}` } },
        },
      });
      assert.deepEqual(JSON.parse((await page.textContent("#config-vscode"))!), {
        servers: {
          "code-memory": { type: "http", url: mcpUrl, headers: { Authorization: `Bearer ${key}` } },
        },
      });
      assert.deepEqual(JSON.parse((await page.textContent("#config-claude-desktop"))!), {
        mcpServers: {
          "code-memory": {
            command: "npx",
            args: ["-y", "mcp-remote", mcpUrl, "--header", "Authorization:${AUTH_HEADER}"],
            env: { AUTH_HEADER: `Bearer ${key}` },
          },
        },
      });
      const snippet = (await page.textContent("#config-supabase-js"))!;
      assert.match(snippet, new RegExp(`createClient\\("${stack.url}", "${key}"\\)`));

      // The copy button puts exactly the shown text on the clipboard.
      await page.click("#copy-claude-code");
      await page.locator("#copy-claude-code", { hasText: "Copied" }).waitFor();
      assert.equal(
        await page.evaluate(() =>
          (globalThis as unknown as Clipboarded).navigator.clipboard.readText()
        ),
        await page.textContent("#config-claude-code"),
      );

      // The configured key is a working read + write key.
      await withMcp(stack, withToken(user, key), async (client) => {
        await callToolOk(client, "save_memory", { content: "Connected from the dashboard" });
      });
      if (backend === "pglite") {
        await Deno.mkdir(SHOTS, { recursive: true });
        await page.screenshot({
          path: new URL("dashboard-connect.png", SHOTS).pathname,
          fullPage: true,
        });
      }
    } finally {
      await browser.close();
    }
  });
}, { ignore: !existsSync(CHROMIUM), sanitizeResources: false, sanitizeOps: false });

testEachBackend("dashboard: invite a teammate, who accepts one and declines another", async (
  backend,
) => {
  await withStack(backend, async (stack) => {
    const owner = await stack.newUser();
    const mate = await stack.newUser();
    await createProject(stack, owner, { name: "Web app", slug: "web-app" });
    await createProject(stack, owner, { name: "Infra", slug: "infra" });
    const browser = await launch();
    try {
      const page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
      const problems: string[] = [];
      page.on("pageerror", (err) => problems.push(err.message));
      await signIn(page, stack, owner);
      await page.click("#views [data-view=team]");
      await page.locator("#team-projects li", { hasText: "Web app" }).waitFor();
      await page.locator("#members-table tbody tr", { hasText: owner.email }).waitFor();

      for (const [project, role] of [["Web app", "writer"], ["Infra", "reader"]]) {
        await page.locator("#team-projects li", { hasText: project }).locator("button").click();
        await page.locator("#team-project-name", { hasText: project }).waitFor();
        await page.fill("#invite-form input[name=email]", mate.email);
        await page.selectOption("#invite-form select[name=role]", role);
        await page.click("#invite-form button[type=submit]");
        await page.locator("#team-status", { hasText: `Invited ${mate.email} as ${role}` })
          .waitFor();
        await page.locator("#pending-invitations li", { hasText: mate.email }).waitFor();
      }
      if (backend === "pglite") {
        await Deno.mkdir(SHOTS, { recursive: true });
        await page.screenshot({ path: new URL("dashboard-team.png", SHOTS).pathname });
      }
      // A bad email is the API's 400, said in the panel.
      await page.locator("#invite-form input[name=email]").evaluate((e) =>
        (e as { type: string }).type = "text"
      );
      await page.fill("#invite-form input[name=email]", "not an email");
      await page.click("#invite-form button[type=submit]");
      await page.locator("#team-status.error", { hasText: "email" }).waitFor();
      await signOut(page);

      // The teammate sees both invitations, accepts Web app and declines Infra.
      await signIn(page, stack, mate);
      await page.click("#views [data-view=team]");
      const incoming = page.locator("#incoming-invitations li");
      await incoming.filter({ hasText: "Infra" }).waitFor();
      assert.equal(await incoming.count(), 2);
      await incoming.filter({ hasText: "Web app" }).locator("button[data-accept]").click();
      await page.locator("#team-status", { hasText: "Joined Web app as writer" }).waitFor();
      await page.locator("#team-projects li", { hasText: "Web app" }).locator(".role-writer")
        .waitFor();
      await incoming.filter({ hasText: "Infra" }).locator("button[data-decline]").click();
      await page.locator("#team-status", { hasText: "Declined Infra" }).waitFor();
      await page.locator("#incoming-invitations li.none").waitFor();
      // As a writer the teammate sees the members but no invite form.
      await page.locator("#team-projects li", { hasText: "Web app" }).locator("button").click();
      await page.locator("#members-table tbody tr", { hasText: mate.email }).waitFor();
      assert.equal(await page.locator("#invite-form").isVisible(), false);
      await signOut(page);

      // The owner's view: one member more, no invitation pending for either project.
      const members = await stack.api(owner, "/functions/v1/memories/projects/web-app/members");
      assert.deepEqual(
        ((await members.json()).members as { email: string; role: string }[])
          .map((m) => [m.email, m.role]).sort(),
        [[mate.email, "writer"], [owner.email, "owner"]].sort(),
      );
      for (const slug of ["web-app", "infra"]) {
        const pending = await stack.api(
          owner,
          `/functions/v1/memories/projects/${slug}/invitations`,
        );
        assert.deepEqual((await pending.json()).invitations, [], slug);
      }
      assert.deepEqual(problems, []);
    } finally {
      await browser.close();
    }
  });
}, { ignore: !existsSync(CHROMIUM), sanitizeResources: false, sanitizeOps: false });
