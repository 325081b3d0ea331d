import { type Authenticator, createAuthenticator } from "../auth/authenticate.ts";
import type { Config } from "../config.ts";
import type { Database } from "../db/types.ts";
import { MemoryService } from "../memory/service.ts";

/** Everything a function needs, built once per process and shared by all requests. */
export interface AppContext {
  config: Config;
  db: Database;
  service: MemoryService;
  auth: Authenticator;
}

export function createContext(config: Config, db: Database): AppContext {
  return {
    config,
    db,
    service: new MemoryService(db),
    auth: createAuthenticator(db),
  };
}
