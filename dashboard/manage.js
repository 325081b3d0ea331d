// The dashboard's management views: API keys (create, list, revoke), the team (projects,
// members, invitations) and "Connect an agent". Every call is `api.request` (supabase-js's
// functions.invoke) on the REST routes of shared/http/keys_api.ts and teams_api.ts; everything
// stored is shown with textContent, never parsed as HTML.
import { agentConfigs } from "./connect.js";

const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

/** An element holding text (never markup), with optional class and attributes. */
function el(tag, text, className, attrs = {}) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (className) e.className = className;
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}

function button(label, onClick, className = "ghost", attrs = {}) {
  const b = /** @type {HTMLButtonElement} */ (el("button", label, className, {
    type: "button",
    ...attrs,
  }));
  b.addEventListener("click", onClick);
  return b;
}

const day = (iso) => iso ? new Date(iso).toLocaleDateString("en", { dateStyle: "medium" }) : "–";
const DAY_MS = 86_400_000;

/** A copy button for a text element; says "Copied" when the clipboard took it. */
function copyButton(source, id) {
  const b = button(
    "Copy",
    async () => {
      try {
        await navigator.clipboard.writeText(source.textContent ?? "");
        b.textContent = "Copied";
      } catch {
        // No clipboard (plain http on another host): select the text for Ctrl+C instead.
        getSelection()?.selectAllChildren(source);
        b.textContent = "Press Ctrl+C";
      }
    },
    "ghost copy",
    id ? { id } : {},
  );
  return b;
}

/** Shows an action's outcome (or its error) in a panel's status line. */
function say(id, text, isError = false) {
  const line = $(id);
  line.textContent = text;
  line.classList.toggle("error", isError);
}

export class Manage {
  /** @param {import("./api.js").Api} api */
  constructor(api) {
    this.api = api;
    /** @type {Array<{ id: string, ref: string, name: string, slug: string, role: string }>} */
    this.projects = [];
    // A new sign-in starts clean: no secret or configuration of an earlier session stays.
    for (const id of ["new-key", "connect-key", "connect-configs"]) {
      $(id).replaceChildren();
      $(id).hidden = true;
    }
    $("team-detail").hidden = true;
    for (const id of ["keys-status", "team-status", "connect-status"]) say(id, "");
  }

  /** Loads whatever the view shows (called when it is opened). */
  async show(view) {
    try {
      if (view === "keys") await this.loadKeys();
      if (view === "team") await Promise.all([this.loadProjects(), this.loadIncoming()]);
    } catch (err) {
      say(`${view}-status`, `Could not load: ${err.message}`, true);
    }
  }

  // --- Keys ---------------------------------------------------------------------------------

  /** POST /memories/keys; the secret comes back once. */
  async createKey(name, scopes, days) {
    const body = { name, scopes };
    if (days) body.expires_at = new Date(Date.now() + days * DAY_MS).toISOString();
    return await this.api.request("memories/keys", body);
  }

  async loadKeys() {
    const { keys } = await this.api.request("memories/keys");
    const body = /** @type {HTMLTableElement} */ ($("keys-table")).tBodies[0];
    body.replaceChildren();
    if (keys.length === 0) {
      const td = el("td", "No keys yet.", "none");
      td.colSpan = 6;
      const tr = el("tr");
      tr.append(td);
      body.append(tr);
    }
    const mine = this.api.session.mode === "key" ? this.api.session.key.slice(0, 10) : null;
    for (const k of keys) {
      const tr = el("tr", undefined, k.revoked_at ? "revoked" : "", { "data-key-id": k.id });
      const name = el("td", k.name);
      if (k.prefix === mine) name.append(el("span", "this browser", "pill"));
      const state = k.revoked_at
        ? el("span", `revoked ${day(k.revoked_at)}`, "pill warn")
        : k.expires_at && Date.parse(k.expires_at) <= Date.now()
        ? el("span", "expired", "pill warn")
        : button("Revoke", () => void this.revokeKey(k), "ghost danger", { "data-revoke": k.id });
      const action = el("td", undefined, "num");
      action.append(state);
      tr.append(
        name,
        el("td", `${k.prefix}…`, "mono"),
        el("td", k.scopes.join(" + ")),
        el("td", day(k.created_at)),
        el("td", k.expires_at ? day(k.expires_at) : "never"),
        action,
      );
      body.append(tr);
    }
  }

  async revokeKey(k) {
    try {
      await this.api.request(`memories/keys/${k.id}`, undefined, "DELETE");
      say("keys-status", `Revoked '${k.name}': it stops working on its next request.`);
      await this.loadKeys();
    } catch (err) {
      say("keys-status", `Could not revoke: ${err.message}`, true);
    }
  }

  /** Shows a new secret once, with its copy button, in the given box. */
  showSecret(boxId, created) {
    const box = $(boxId);
    const secret = el("code", created.secret, "secret", { id: `${boxId}-value` });
    box.replaceChildren(
      el("p", `Key '${created.key.name}' created. Copy it now: it is not shown again.`),
      el("div", undefined, "secret-row"),
    );
    box.lastElementChild.append(secret, copyButton(secret, `${boxId}-copy`));
    box.hidden = false;
  }

  async onCreateKey(form) {
    const f = new FormData(form);
    const scopes = f.getAll("scopes").map(String);
    if (scopes.length === 0) return say("keys-status", "Pick at least one scope.", true);
    try {
      const created = await this.createKey(
        String(f.get("name") || "dashboard"),
        scopes,
        Number(f.get("days")),
      );
      this.showSecret("new-key", created);
      say("keys-status", "");
      form.reset();
      await this.loadKeys();
    } catch (err) {
      say("keys-status", `Could not create the key: ${err.message}`, true);
    }
  }

  // --- Team ---------------------------------------------------------------------------------

  async loadProjects() {
    const { projects } = await this.api.request("memories/projects");
    this.projects = projects;
    const list = $("team-projects");
    list.replaceChildren();
    if (projects.length === 0) list.append(el("li", "No projects yet.", "none"));
    for (const p of projects) {
      const li = el("li", undefined, "actions", { "data-project": p.ref });
      const open = button(p.name, () => void this.openProject(p.ref), "link");
      li.append(open, el("span", p.slug, "pill"), el("span", p.role, `pill role-${p.role}`));
      list.append(li);
    }
    const current = this.current && projects.find((p) => p.ref === this.current);
    if (current) await this.openProject(current.ref);
    else if (projects[0]) await this.openProject(projects[0].ref);
  }

  /** Members (everyone sees them) and, for owners, invitations and the invite form. */
  async openProject(ref) {
    this.current = ref;
    const project = this.projects.find((p) => p.ref === ref);
    if (!project) return;
    for (const li of $("team-projects").children) {
      li.classList.toggle("selected", li.getAttribute("data-project") === ref);
    }
    $("team-detail").hidden = false;
    $("team-project-name").textContent = project.name;
    const owner = project.role === "owner";
    $("invite-form").hidden = !owner;
    $("team-invitations").hidden = !owner;
    const path = `memories/projects/${encodeURIComponent(ref)}`;
    const [{ members }, invited] = await Promise.all([
      this.api.request(`${path}/members`),
      owner ? this.api.request(`${path}/invitations`) : { invitations: [] },
    ]);
    const body = /** @type {HTMLTableElement} */ ($("members-table")).tBodies[0];
    body.replaceChildren();
    for (const m of members) {
      const tr = el("tr");
      tr.append(el("td", m.email ?? m.user_id), el("td", m.role), el("td", day(m.added_at)));
      body.append(tr);
    }
    const pending = $("pending-invitations");
    pending.replaceChildren();
    if (invited.invitations.length === 0) pending.append(el("li", "None pending.", "none"));
    for (const inv of invited.invitations) {
      const li = el("li", inv.email, "actions");
      li.append(
        el("span", inv.role, "pill"),
        el("span", `until ${day(inv.expires_at)}`, "pill"),
        button("Withdraw", () => void this.withdraw(ref, inv), "ghost danger"),
      );
      pending.append(li);
    }
  }

  async onInvite(form) {
    const f = new FormData(form);
    const ref = this.current;
    try {
      const { invitation } = await this.api.request(
        `memories/projects/${encodeURIComponent(ref)}/invitations`,
        { email: String(f.get("email")).trim(), role: String(f.get("role")) },
      );
      say("team-status", `Invited ${invitation.email} as ${invitation.role}.`);
      form.reset();
      await this.openProject(ref);
    } catch (err) {
      say("team-status", `Could not invite: ${err.message}`, true);
    }
  }

  async withdraw(ref, inv) {
    try {
      await this.api.request(
        `memories/projects/${encodeURIComponent(ref)}/invitations/${inv.id}`,
        undefined,
        "DELETE",
      );
      say("team-status", `Withdrew the invitation for ${inv.email}.`);
      await this.openProject(ref);
    } catch (err) {
      say("team-status", `Could not withdraw: ${err.message}`, true);
    }
  }

  async loadIncoming() {
    const { invitations } = await this.api.request("memories/invitations");
    const list = $("incoming-invitations");
    list.replaceChildren();
    if (invitations.length === 0) list.append(el("li", "No invitations waiting.", "none"));
    for (const inv of invitations) {
      const li = el("li", inv.project_name, "actions", { "data-invitation": inv.id });
      li.append(
        el("span", inv.role, "pill"),
        el("span", inv.invited_by_email ? `from ${inv.invited_by_email}` : "", "muted small"),
        button("Accept", () => void this.answer(inv, "accept"), "", { "data-accept": inv.id }),
        button("Decline", () => void this.answer(inv, "decline"), "ghost", {
          "data-decline": inv.id,
        }),
      );
      list.append(li);
    }
  }

  async answer(inv, verdict) {
    try {
      await this.api.request(`memories/invitations/${inv.id}/${verdict}`, {});
      say(
        "team-status",
        verdict === "accept"
          ? `Joined ${inv.project_name} as ${inv.role}.`
          : `Declined ${inv.project_name}.`,
      );
      await Promise.all([this.loadProjects(), this.loadIncoming()]);
    } catch (err) {
      say("team-status", `Could not ${verdict}: ${err.message}`, true);
    }
  }

  // --- Connect an agent ---------------------------------------------------------------------

  /** A fresh key for the agent, then every client's configuration filled with it. */
  async onConnect(form) {
    const f = new FormData(form);
    try {
      const created = await this.createKey(String(f.get("name") || "agent"), [
        "read",
        "write",
      ]);
      this.showSecret("connect-key", created);
      this.renderConfigs(created.secret);
      say("connect-status", "");
    } catch (err) {
      say("connect-status", `Could not create a key: ${err.message}`, true);
    }
  }

  renderConfigs(key) {
    const list = $("connect-configs");
    list.replaceChildren();
    for (const c of agentConfigs(this.api.functionsUrl, key)) {
      const card = el("div", undefined, "config", { "data-client": c.id });
      const pre = el("pre", c.text, "", { id: `config-${c.id}` });
      const head = el("div", undefined, "row");
      head.append(el("h3", c.title), copyButton(pre, `copy-${c.id}`));
      card.append(head, el("p", c.where, "muted small"), pre);
      list.append(card);
    }
    list.hidden = false;
  }

  /** The MCP URL is known before any key exists: show it right away. */
  showEndpoint() {
    $("connect-url").textContent = `${this.api.functionsUrl}/mcp`;
  }
}

/** Wires the forms once; `current()` is the signed-in Manage (null when signed out). */
export function wireManage(current) {
  const onSubmit = (id, fn) =>
    $(id).addEventListener("submit", (e) => {
      e.preventDefault();
      const m = current();
      if (m) void fn(m, /** @type {HTMLFormElement} */ (e.target));
    });
  onSubmit("key-create-form", (m, f) => m.onCreateKey(f));
  onSubmit("invite-form", (m, f) => m.onInvite(f));
  onSubmit("connect-form", (m, f) => m.onConnect(f));
}
