/// <reference types="npm:@supabase/functions-js@2.119.1/src/edge-runtime.d.ts" />
import { analytics } from "../../shared/app/functions/analytics.ts";
import { serveFunction } from "../../shared/app/serve.ts";

serveFunction(analytics);
