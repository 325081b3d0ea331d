/** Search: the RPC, the service over it, its cache invalidation and access statistics. */
export { AccessTracker } from "./access.ts";
export { bumpGenerations } from "./generations.ts";
export { searchRpc, type SearchRpcArgs } from "./rpc.ts";
export * from "./schemas.ts";
export { type Scoring, SearchService, type SearchServiceOptions } from "./service.ts";
export type { SearchHit, SearchResult } from "./types.ts";
