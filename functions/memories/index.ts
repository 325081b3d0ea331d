/// <reference types="npm:@supabase/functions-js@2.119.1/src/edge-runtime.d.ts" />
import { memories } from "../../shared/app/functions/memories.ts";
import { serveFunction } from "../../shared/app/serve.ts";

serveFunction(memories);
