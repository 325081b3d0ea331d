import { type Channel, withRequestSource } from "../analytics/request_source.ts";
import { withCors } from "../http/cors.ts";
import type { Handler } from "./edge_function.ts";

/** What browsers and agents call: CORS, and the request's source for analytics events. */
export const clientFacing = (channel: Channel, handler: Handler): Handler =>
  withCors(withRequestSource(channel, handler));
