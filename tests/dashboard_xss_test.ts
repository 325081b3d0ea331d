/**
 * The dashboard renders stored text as text (security review: held up, kept covered): markup in
 * a memory's title, content, tags, a project's name or a search query never becomes elements
 * or runs script, in headless Chromium under the page's CSP; nor does a key's name, a project
 * name in the team view or an invitation's project (the management views).
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { chromium } from "playwright-core";
import { call, createProject, inviteMember, MEMORIES, saveMemory } from "./helpers/foundation.ts";
import { withStack } from "./helpers/stack.ts";

const CHROMIUM = "/usr/bin/chromium";
const MARKUP = `<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script><b>bold</b>`;

// Rendering does not depend on the database: PGlite only.
Deno.test(
  "dashboard: stored markup is shown as text and never runs",
  { ignore: !existsSync(CHROMIUM), sanitizeResources: false, sanitizeOps: false },
  () =>
    withStack("pglite", async (stack) => {
      const user = await stack.newUser();
      await createProject(stack, user, { name: `Project ${MARKUP}`, slug: "xss" });
      const memory = await saveMemory(stack, user, {
        project: "xss",
        title: `Title ${MARKUP}`,
        content: `Content ${MARKUP}`,
      });
      // Old and never recalled: listed under the stale suggestions too.
      await stack.db.query(
        "update public.memories set created_at = now() - interval '45 days' where id = $1",
        [memory.id],
      );
      const searched = await call(stack, user, "POST", `${MEMORIES}/search`, {
        query: `nothing ${MARKUP}`,
        mode: "keyword",
      });
      assert.equal(searched.status, 200);
      await stack.ctx.analytics.flush();
      await stack.db.query("select analytics.rollup((now() at time zone 'utc')::date)");
      const named = await call(stack, user, "POST", `${MEMORIES}/keys`, { name: `Key ${MARKUP}` });
      assert.equal(named.status, 201);
      const other = await stack.newUser();
      const shared = await createProject(stack, other, {
        name: `Shared ${MARKUP}`,
        slug: "shared",
      });
      await inviteMember(stack.db, other.userId, shared.id, user.userId, "reader");

      const browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"],
      });
      try {
        const page = await browser.newPage();
        await page.goto(`${stack.url}/dashboard`);
        await page.fill("#key-form input[name=key]", user.key);
        await page.click("#key-form button[type=submit]");
        await page.locator("#memory-list li", { hasText: "Title <img" }).first().waitFor();
        await page.locator("#sugg-stale", { hasText: "Title <img" }).waitFor();
        await page.locator("#zero-queries", { hasText: "nothing <img" }).waitFor();
        // The markup is there as characters, never as elements, and nothing ran.
        const injected = await page.$$eval("#app img, #app script, #app b", (els) => els.length);
        assert.equal(injected, 0);
        // The management views show the same text as characters.
        await page.click("#views [data-view=keys]");
        await page.locator("#keys-table", { hasText: "Key <img" }).waitFor();
        await page.click("#views [data-view=team]");
        await page.locator("#team-projects li", { hasText: "Project <img" }).locator("button")
          .click();
        await page.locator("#team-project-name", { hasText: "Project <img" }).waitFor();
        await page.locator("#incoming-invitations", { hasText: "Shared <img" }).waitFor();
        assert.equal(await page.$$eval("#app img, #app script, #app b", (els) => els.length), 0);
        assert.equal(
          await page.evaluate(() => (globalThis as { __pwned?: number }).__pwned),
          undefined,
        );
      } finally {
        await browser.close();
      }
    }),
);
