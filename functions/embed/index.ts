/// <reference types="npm:@supabase/functions-js@2.119.1/src/edge-runtime.d.ts" />
import { embed } from "../../shared/app/functions/embed.ts";
import { serveFunction } from "../../shared/app/serve.ts";

serveFunction(embed);
