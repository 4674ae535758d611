/**
 * Entry point of the provision-device Edge Function (Supabase Edge Runtime / Deno): see provision.ts.
 *
 * On Supabase the platform sets SUPABASE_URL, SUPABASE_ANON_KEY and SUPABASE_SERVICE_ROLE_KEY. PROVISION_LISTEN
 * ("host:port", port 0 for any free one) is for running it outside Supabase, as the test suite does with
 * `deno run`; it prints the address it listens on.
 */
import { callerOf, configFromEnv, provision } from "./provision.ts";

const cfg = configFromEnv((name) => Deno.env.get(name));

function handler(request: Request, info: Deno.ServeHandlerInfo): Promise<Response> {
  const remote = info.remoteAddr.transport === "tcp" ? info.remoteAddr.hostname : undefined;
  return provision(request, cfg, callerOf(request.headers, remote));
}

const listen = Deno.env.get("PROVISION_LISTEN");
if (listen) {
  const at = listen.lastIndexOf(":");
  Deno.serve({
    hostname: listen.slice(0, at),
    port: Number(listen.slice(at + 1)),
    onListen: ({ hostname, port }) => console.log(`listening on http://${hostname}:${port}/`),
  }, handler);
} else {
  Deno.serve(handler);
}
