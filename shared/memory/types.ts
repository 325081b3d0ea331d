import type { MemoryKind } from "./limits.ts";

/** A memory as the API returns it (snake_case, like the table and supabase-js). */
export interface Memory {
  id: string;
  user_id: string;
  project_id: string;
  /** The project as the caller names it: their own project's slug, a shared project's id. */
  project: string;
  kind: MemoryKind;
  title: string | null;
  content: string;
  tags: string[];
  metadata: Record<string, unknown>;
  repo: string | null;
  file_path: string | null;
  language: string | null;
  symbol: string | null;
  commit_sha: string | null;
  importance: number;
  content_hash: string;
  embedding_status: "pending" | "ready" | "failed";
  embedding_model: string | null;
  version: number;
  created_at: string;
  updated_at: string;
  last_accessed_at: string | null;
  access_count: number;
  expires_at: string | null;
}

export interface Project {
  id: string;
  /** What to pass as `project`: the slug of your own project, the id of a shared one. */
  ref: string;
  owner_id: string;
  name: string;
  slug: string;
  description: string | null;
  is_default: boolean;
  role: "owner" | "writer" | "reader";
  created_at: string;
}

/** A project as listed: with how many of its memories wait for (or gave up on) embedding. */
export interface ListedProject extends Project {
  /** Memories in the project (not expired). */
  memory_count: number;
  /** Saved but not yet searchable by meaning (they are by keywords); 0 = indexing is done. */
  pending_embeddings: number;
  /** Embedding failed after every retry; searchable by keywords only. */
  failed_embeddings: number;
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

/** What get_memory shows beside a memory: its links and who wrote its current version. */
export interface MemoryLinks {
  /** The older memory this one replaces (search leaves that one out), or null. */
  supersedes: string | null;
  /** Newer memories of the same project that replace this one, newest first. */
  superseded_by: string[];
  /** Who wrote the current version (the author for version 1). */
  updated_by: string;
}

/** An earlier version of a memory, kept when an update replaced it. */
export interface MemoryVersion extends
  Pick<
    Memory,
    | "kind"
    | "title"
    | "content"
    | "tags"
    | "metadata"
    | "repo"
    | "file_path"
    | "language"
    | "symbol"
    | "commit_sha"
    | "importance"
  > {
  version: number;
  /** Who wrote this version and when. */
  written_by: string;
  written_at: string;
  /** When the next version replaced it. */
  replaced_at: string;
}
