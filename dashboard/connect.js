// "Connect an agent": the exact configuration each client needs, filled with this deployment's
// MCP URL and a key. Pure functions (no DOM), so the texts are tested as text too; they follow
// docs/clients.md, which says where each file lives and why a header goes through `env`.

/** The MCP endpoint beside the functions URL (…/functions/v1 → …/functions/v1/mcp). */
export const mcpUrlOf = (functionsUrl) => `${functionsUrl.replace(/\/+$/, "")}/mcp`;

/** The project URL supabase-js wants (it appends /functions/v1 itself). */
export const projectUrlOf = (functionsUrl) =>
  functionsUrl.replace(/\/+$/, "").replace(/\/functions\/v1$/, "");

const json = (value) => JSON.stringify(value, null, 2);

/** A word a POSIX shell passes through unchanged (single quotes, quotes inside escaped). */
const shellWord = (s) => /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;

/**
 * @param {string} functionsUrl e.g. https://<ref>.supabase.co/functions/v1
 * @param {string} key the API key to put in the configuration
 * @returns {{ id: string, title: string, where: string, text: string }[]}
 */
export function agentConfigs(functionsUrl, key) {
  const mcpUrl = mcpUrlOf(functionsUrl);
  const bearer = `Bearer ${key}`;
  return [
    {
      id: "claude-code",
      title: "Claude Code",
      where: "Run in a terminal; add --scope user to have it in every project.",
      text: `claude mcp add --transport http code-memory ${shellWord(mcpUrl)} \\\n  --header ${
        shellWord(`Authorization: ${bearer}`)
      }`,
    },
    {
      id: "cursor",
      title: "Cursor",
      where: ".cursor/mcp.json in the project, or ~/.cursor/mcp.json for all projects.",
      text: json({
        mcpServers: { "code-memory": { url: mcpUrl, headers: { Authorization: bearer } } },
      }),
    },
    {
      id: "vscode",
      title: "VS Code",
      where: ".vscode/mcp.json (GitHub Copilot agent mode).",
      text: json({
        servers: {
          "code-memory": { type: "http", url: mcpUrl, headers: { Authorization: bearer } },
        },
      }),
    },
    {
      id: "claude-desktop",
      title: "Claude Desktop",
      where: "claude_desktop_config.json (Settings → Developer → Edit Config); needs Node.js.",
      text: json({
        mcpServers: {
          "code-memory": {
            command: "npx",
            args: ["-y", "mcp-remote", mcpUrl, "--header", "Authorization:${AUTH_HEADER}"],
            env: { AUTH_HEADER: bearer },
          },
        },
      }),
    },
    {
      id: "supabase-js",
      title: "supabase-js",
      where: "Scripts and dashboards: the key is the bearer of every functions.invoke call.",
      text: [
        `import { createClient } from "@supabase/supabase-js";`,
        ``,
        `const memory = createClient(${JSON.stringify(projectUrlOf(functionsUrl))}, ${
          JSON.stringify(key)
        });`,
        `const { data } = await memory.functions.invoke("memories/search", {`,
        `  body: { query: "how do we deploy?" },`,
        `});`,
      ].join("\n"),
    },
  ];
}
