/// <reference types="npm:@supabase/functions-js@2.119.1/src/edge-runtime.d.ts" />
import { mcp } from "../../shared/app/functions/mcp.ts";
import { serveFunction } from "../../shared/app/serve.ts";

serveFunction(mcp);
