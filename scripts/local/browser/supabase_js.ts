// Entry of the browser module the dashboard imports as ./vendor/supabase-js.js (built by
// scripts/local/browser_modules.ts from the npm package locked in deno.lock).
export * from "@supabase/supabase-js";
