/**
 * Tests of the provision-device function, run by `deno test` (see cloud_sync/README.md). The upstream services
 * (PostgREST's RPCs and GoTrue's admin API and password grant) are a small HTTP server on 127.0.0.1 port 0 that
 * keeps codes, devices and users in memory and answers as those services do. The Python suite runs the same
 * function against the Supabase stand-in over the real database (tests/cloud_sync).
 */
import { callerOf, type Config, configFromEnv, parseBody, provision } from "./provision.ts";

function assertEquals(actual: unknown, expected: unknown, what = ""): void {
  const a = JSON.stringify(actual), e = JSON.stringify(expected);
  if (a !== e) throw new Error(`${what} expected ${e}, got ${a}`);
}

function assert(ok: unknown, what: string): void {
  if (!ok) throw new Error(what);
}

const SERVICE = "service-key", ANON = "anon-key";

/** PostgREST + GoTrue, as far as this function uses them. */
class Upstream {
  codes = new Map<string, { site: string; used: boolean }>();
  devices = new Map<string, { site: string; user: string }>();
  users = new Map<string, { email: string; password: string; meta: Record<string, unknown> }>();
  failures = new Map<string, number>();
  calls: string[] = [];
  failCreate = false;
  failSignIn = false;
  server: Deno.HttpServer<Deno.NetAddr>;

  constructor() {
    this.server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (r) => this.handle(r));
  }

  get url(): string {
    return `http://127.0.0.1:${this.server.addr.port}`;
  }

  async handle(r: Request): Promise<Response> {
    const url = new URL(r.url);
    const key = r.headers.get("apikey");
    this.calls.push(`${r.method} ${url.pathname}${url.search} ${key}`);
    const body = r.method === "POST" ? await r.json() : {};
    const reply = (status: number, data: unknown) => Response.json(data, { status });
    const service = key === SERVICE && r.headers.get("authorization") === `Bearer ${SERVICE}`;
    if (url.pathname === "/rest/v1/rpc/redeem_provisioning_code" && service) {
      const caller = String(body.p_caller);
      if ((this.failures.get(caller) ?? 0) >= 5) return reply(429, { code: "too_many_attempts", message: "slow down" });
      const code = this.codes.get(body.p_code);
      if (!code || code.used) {
        this.failures.set(caller, (this.failures.get(caller) ?? 0) + 1);
        return reply(400, { code: "P0001", message: "the provisioning code is not valid" });
      }
      code.used = true;
      this.devices.set(body.p_device_id, { site: code.site, user: body.p_user_id });
      return reply(200, { device_id: body.p_device_id, site_id: code.site });
    }
    if (url.pathname === "/rest/v1/rpc/release_provisioning_code" && service) {
      for (const code of this.codes.values()) code.used = false;
      this.devices.delete(body.p_device_id);
      return reply(200, null);
    }
    if (url.pathname === "/auth/v1/admin/users" && r.method === "POST" && service) {
      if (this.failCreate) return reply(500, { msg: "database error creating user" });
      this.users.set(body.id, { email: body.email, password: body.password, meta: body.app_metadata });
      return reply(200, { id: body.id, email: body.email });
    }
    if (url.pathname.startsWith("/auth/v1/admin/users/") && r.method === "DELETE" && service) {
      this.users.delete(url.pathname.split("/").pop()!);
      return reply(200, {});
    }
    if (url.pathname === "/auth/v1/token" && url.searchParams.get("grant_type") === "password" && key === ANON) {
      const user = [...this.users.entries()].find(([, u]) => u.email === body.email && u.password === body.password);
      if (!user || this.failSignIn) return reply(400, { error: "invalid_grant", error_description: "Invalid login" });
      return reply(200, {
        access_token: `access-for-${user[0]}`,
        refresh_token: `refresh-for-${user[0]}`,
        token_type: "bearer",
        expires_in: 3600,
        expires_at: 1_900_000_000,
      });
    }
    return reply(401, { message: "not allowed" });
  }

  config(): Config {
    return { url: this.url, serviceKey: SERVICE, anonKey: ANON, emailDomain: "devices.test" };
  }

  async close(): Promise<void> {
    await this.server.shutdown();
  }
}

function post(body: unknown): Request {
  return new Request("http://function.test/provision-device", {
    method: "POST",
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

async function withUpstream(fn: (up: Upstream) => Promise<void>): Promise<void> {
  const up = new Upstream();
  try {
    await fn(up);
  } finally {
    await up.close();
  }
}

Deno.test("a valid code gives the device its own session", () =>
  withUpstream(async (up) => {
    up.codes.set("AAAA-BBBB", { site: "cafe-1", used: false });
    const response = await provision(
      post({ code: " AAAA-BBBB ", device_id: "unit-1", name: "walk-in" }),
      up.config(),
      "1.2.3.4",
    );
    const data = await response.json();
    assertEquals(response.status, 200, "status");
    const [userId] = up.users.keys();
    assertEquals(up.devices.get("unit-1"), { site: "cafe-1", user: userId }, "device binding");
    assertEquals(data.access_token, `access-for-${userId}`, "access token");
    assertEquals([data.device_id, data.site_id, data.user.id], ["unit-1", "cafe-1", userId], "identity");
    assertEquals(up.users.get(userId)!.meta, { device_id: "unit-1", site_id: "cafe-1" }, "app_metadata");
    assert(up.users.get(userId)!.email.endsWith("@devices.test"), "device e-mail domain");
    const password = up.users.get(userId)!.password;
    assert(password.length >= 40 && /[a-z]/.test(password) && /[A-Z]/.test(password), "a strong password");
    assert(/[0-9]/.test(password) && /[-_]/.test(password), "every character class");
    // the service key goes only to the RPC and the admin API; the sign-in uses the publishable key
    assertEquals(up.calls.map((c) => c.split(" ").pop()), [SERVICE, SERVICE, ANON], "keys used");
    assert(!JSON.stringify(data).includes(SERVICE), "the service key never reaches the unit");
  }));

Deno.test("a wrong or used code is refused and no user is made", () =>
  withUpstream(async (up) => {
    up.codes.set("GOOD", { site: "cafe-1", used: true });
    for (const code of ["WRONG", "GOOD"]) {
      const response = await provision(post({ code, device_id: "unit-1" }), up.config(), "1.2.3.4");
      assertEquals(response.status, 400, `status for ${code}`);
      assertEquals((await response.json()).error, "the provisioning code is not valid", "message");
    }
    assertEquals(up.users.size, 0, "users");
  }));

Deno.test("the database's per-caller limit is passed on as 429", () =>
  withUpstream(async (up) => {
    up.failures.set("6.6.6.6", 5);
    up.codes.set("GOOD", { site: "cafe-1", used: false });
    const response = await provision(post({ code: "GOOD", device_id: "unit-1" }), up.config(), "6.6.6.6");
    assertEquals(response.status, 429, "status");
    assertEquals(up.codes.get("GOOD")!.used, false, "code untouched");
  }));

Deno.test("a failed user creation releases the code", () =>
  withUpstream(async (up) => {
    up.codes.set("GOOD", { site: "cafe-1", used: false });
    up.failCreate = true;
    const response = await provision(post({ code: "GOOD", device_id: "unit-1" }), up.config(), "1.2.3.4");
    assertEquals(response.status, 502, "status");
    assert((await response.json()).error.includes("database error creating user"), "reason given");
    assertEquals([up.codes.get("GOOD")!.used, up.devices.size], [false, 0], "code released");
  }));

Deno.test("a failed sign-in deletes the user and releases the code", () =>
  withUpstream(async (up) => {
    up.codes.set("GOOD", { site: "cafe-1", used: false });
    up.failSignIn = true;
    const response = await provision(post({ code: "GOOD", device_id: "unit-1" }), up.config(), "1.2.3.4");
    assertEquals(response.status, 502, "status");
    assertEquals([up.users.size, up.codes.get("GOOD")!.used], [0, false], "undone");
    up.failSignIn = false;
    const again = await provision(post({ code: "GOOD", device_id: "unit-1" }), up.config(), "1.2.3.4");
    assertEquals(again.status, 200, "the code works afterwards");
    await again.body?.cancel();
  }));

Deno.test("an unreachable upstream is a 502, not a crash", async () => {
  const up = new Upstream();
  const cfg = up.config();
  await up.close();
  const response = await provision(post({ code: "GOOD", device_id: "unit-1" }), cfg, "1.2.3.4");
  assertEquals(response.status, 502, "status");
  assert((await response.json()).error.startsWith("the database cannot be reached"), "reason given");
});

Deno.test("bad requests are refused before anything is called", () =>
  withUpstream(async (up) => {
    const cases: [Request, number][] = [
      [new Request("http://function.test/", { method: "GET" }), 405],
      [post("{not json"), 400],
      [post([1, 2]), 400],
      [post({ device_id: "unit-1" }), 400],
      [post({ code: "X", device_id: "../etc" }), 400],
      [post({ code: "X", device_id: "unit-1", name: 5 }), 400],
      [post({ code: "X".repeat(65), device_id: "unit-1" }), 400],
    ];
    for (const [request, status] of cases) {
      const response = await provision(request, up.config(), "1.2.3.4");
      assertEquals(response.status, status, `status for ${request.method}`);
      await response.body?.cancel();
    }
    assertEquals(up.calls, [], "no upstream call");
  }));

Deno.test("parseBody keeps the name optional and trims the code", () => {
  assertEquals(parseBody({ code: " c ", device_id: "a.b:c-d_e" }), { code: "c", device_id: "a.b:c-d_e", name: "" });
  assertEquals(typeof parseBody({ code: "c", device_id: "" }), "string");
});

Deno.test("the caller is the platform's client address, not what the client claims first", () => {
  const h = (init: Record<string, string>) => new Headers(init);
  assertEquals(callerOf(h({ "cf-connecting-ip": "9.9.9.9", "x-forwarded-for": "1.1.1.1" })), "9.9.9.9");
  assertEquals(callerOf(h({ "x-forwarded-for": "6.6.6.6, 2.2.2.2" })), "2.2.2.2");
  assertEquals(callerOf(h({}), "127.0.0.1"), "127.0.0.1");
  assertEquals(callerOf(h({})), "unknown");
});

Deno.test("configuration comes from the platform's variables", () => {
  const env: Record<string, string> = {
    SUPABASE_URL: "https://x.supabase.co/",
    SUPABASE_SERVICE_ROLE_KEY: "s",
    SUPABASE_ANON_KEY: "a",
  };
  const cfg = configFromEnv((n) => env[n]);
  assertEquals([cfg.url, cfg.serviceKey, cfg.anonKey], ["https://x.supabase.co", "s", "a"]);
  let refused = "";
  try {
    configFromEnv(() => undefined);
  } catch (err) {
    refused = String(err);
  }
  assert(refused.includes("SUPABASE_URL"), "names the missing variable");
});
