/**
 * The provision-device Edge Function's logic: exchange a one-time provisioning code for a device's own session.
 *
 * A unit holds only the project's publishable (anon) key. It posts {code, device_id, name}; this function, which
 * runs on the server with the service-role key, then:
 *  1. redeems the code in the database (`redeem_provisioning_code`, single use, counted per caller and throttled
 *     there), binding the device to a fresh auth user id;
 *  2. creates that auth user (GoTrue admin API) with a random password nobody keeps;
 *  3. signs in as it (password grant), so Supabase Auth mints the session and the access-token hook adds the
 *     device's `device_id` and `site_id` claims;
 *  4. answers with the session. Any failure after step 1 undoes what was done, so the code can be used again.
 * Only `fetch` and Web Crypto are used: no imports, so it runs offline and on Supabase's Edge Runtime as is.
 */

export interface Config {
  /** The project's API URL (SUPABASE_URL). */
  url: string;
  /** The service-role key (SUPABASE_SERVICE_ROLE_KEY): for the RPCs and the admin API, never sent to a unit. */
  serviceKey: string;
  /** The publishable key (SUPABASE_ANON_KEY): for the password grant, like any client. */
  anonKey: string;
  /** Domain of the e-mail address each device user gets (never mailed). */
  emailDomain: string;
}

export interface Request_ {
  code: string;
  device_id: string;
  name: string;
}

const DEVICE_ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;

export function configFromEnv(get: (name: string) => string | undefined): Config {
  const need = (name: string): string => {
    const value = get(name);
    if (!value) throw new Error(`the environment variable ${name} is not set`);
    return value;
  };
  return {
    url: need("SUPABASE_URL").replace(/\/+$/, ""),
    serviceKey: need("SUPABASE_SERVICE_ROLE_KEY"),
    anonKey: need("SUPABASE_ANON_KEY"),
    emailDomain: get("DEVICE_EMAIL_DOMAIN") || "devices.larder.example.com",
  };
}

/** The request body, or why it is not one this function takes. */
export function parseBody(body: unknown): Request_ | string {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return "the body must be a JSON object";
  const { code, device_id, name } = body as Record<string, unknown>;
  if (typeof code !== "string" || code.trim().length < 1 || code.length > 64) {
    return "code must be the provisioning code (a string of at most 64 characters)";
  }
  if (typeof device_id !== "string" || !DEVICE_ID.test(device_id)) {
    return "device_id must be 1 to 64 letters, digits or . _ : - (starting with a letter or digit)";
  }
  if (name !== undefined && name !== null && (typeof name !== "string" || name.length > 100)) {
    return "name must be a string of at most 100 characters";
  }
  return { code: code.trim(), device_id, name: typeof name === "string" ? name : "" };
}

/**
 * Who is asking, for the per-caller limit: Cloudflare's `cf-connecting-ip` (set by the platform's edge, not by
 * the client), else the last `x-forwarded-for` hop (added by the nearest proxy), else the socket's address.
 */
export function callerOf(headers: Headers, remote?: string): string {
  const cf = headers.get("cf-connecting-ip")?.trim();
  if (cf) return cf;
  const hops = (headers.get("x-forwarded-for") ?? "").split(",").map((h) => h.trim()).filter(Boolean);
  if (hops.length) return hops[hops.length - 1];
  return remote || "unknown";
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json; charset=utf-8" },
  });
}

/** 256 random bits, plus one character of each class so that any password policy of the project accepts it. */
function randomPassword(bytes = 32): string {
  const raw = crypto.getRandomValues(new Uint8Array(bytes));
  return btoa(String.fromCharCode(...raw)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "") + "aZ9-";
}

async function bodyOf(response: Response): Promise<Record<string, unknown>> {
  try {
    const data = await response.json();
    return typeof data === "object" && data !== null ? data as Record<string, unknown> : {};
  } catch {
    return {};
  }
}

function messageOf(data: Record<string, unknown>, fallback: string): string {
  for (const key of ["message", "msg", "error_description", "error"]) {
    if (typeof data[key] === "string" && data[key]) return data[key] as string;
  }
  return fallback;
}

class Upstream {
  constructor(private cfg: Config, private fetcher: typeof fetch) {}

  private headers(key: string): HeadersInit {
    return { apikey: key, Authorization: `Bearer ${key}`, "Content-Type": "application/json" };
  }

  rpc(name: string, args: Record<string, unknown>): Promise<Response> {
    return this.fetcher(`${this.cfg.url}/rest/v1/rpc/${name}`, {
      method: "POST",
      headers: this.headers(this.cfg.serviceKey),
      body: JSON.stringify(args),
    });
  }

  createUser(id: string, email: string, password: string, meta: Record<string, unknown>): Promise<Response> {
    return this.fetcher(`${this.cfg.url}/auth/v1/admin/users`, {
      method: "POST",
      headers: this.headers(this.cfg.serviceKey),
      body: JSON.stringify({ id, email, password, email_confirm: true, app_metadata: meta }),
    });
  }

  deleteUser(id: string): Promise<Response> {
    return this.fetcher(`${this.cfg.url}/auth/v1/admin/users/${id}`, {
      method: "DELETE",
      headers: this.headers(this.cfg.serviceKey),
    });
  }

  signIn(email: string, password: string): Promise<Response> {
    return this.fetcher(`${this.cfg.url}/auth/v1/token?grant_type=password`, {
      method: "POST",
      headers: { apikey: this.cfg.anonKey, "Content-Type": "application/json" },
      body: JSON.stringify({ email, password }),
    });
  }
}

/** Handle one request. `fetcher` is the global fetch in production. */
export async function provision(
  request: Request,
  cfg: Config,
  caller: string,
  fetcher: typeof fetch = fetch,
): Promise<Response> {
  if (request.method !== "POST") return json(405, { error: "use POST" });
  let raw: unknown;
  try {
    raw = await request.json();
  } catch {
    return json(400, { error: "the body is not JSON" });
  }
  const body = parseBody(raw);
  if (typeof body === "string") return json(400, { error: body });

  const up = new Upstream(cfg, fetcher);
  const userId = crypto.randomUUID();
  let redeemed: Response;
  try {
    redeemed = await up.rpc("redeem_provisioning_code", {
      p_code: body.code,
      p_device_id: body.device_id,
      p_user_id: userId,
      p_device_name: body.name,
      p_caller: caller,
    });
  } catch (err) {
    return json(502, { error: `the database cannot be reached: ${err}` });
  }
  const answer = await bodyOf(redeemed);
  if (!redeemed.ok) {
    const status = redeemed.status >= 500 ? 502 : redeemed.status;
    return json(status, { error: messageOf(answer, "the provisioning code was refused") });
  }
  const device = { device_id: String(answer.device_id), site_id: String(answer.site_id) };

  const undo = async (deleteUser: boolean): Promise<void> => {
    if (deleteUser) await up.deleteUser(userId).then((r) => r.body?.cancel()).catch(() => undefined);
    await up.rpc("release_provisioning_code", { p_code: body.code, p_device_id: body.device_id, p_user_id: userId })
      .then((r) => r.body?.cancel()).catch(() => undefined);
  };

  const email = `device-${userId}@${cfg.emailDomain}`;
  const password = randomPassword();
  let created: Response;
  try {
    created = await up.createUser(userId, email, password, device);
  } catch (err) {
    await undo(false);
    return json(502, { error: `the auth service cannot be reached: ${err}` });
  }
  if (!created.ok) {
    const why = messageOf(await bodyOf(created), `status ${created.status}`);
    await undo(false);
    return json(502, { error: `the device's user could not be created: ${why}` });
  }
  await created.body?.cancel();

  let session: Response;
  try {
    session = await up.signIn(email, password);
  } catch (err) {
    await undo(true);
    return json(502, { error: `the auth service cannot be reached: ${err}` });
  }
  const tokens = await bodyOf(session);
  if (!session.ok || typeof tokens.access_token !== "string" || typeof tokens.refresh_token !== "string") {
    await undo(true);
    return json(502, { error: `the device could not sign in: ${messageOf(tokens, `status ${session.status}`)}` });
  }
  return json(200, {
    access_token: tokens.access_token,
    refresh_token: tokens.refresh_token,
    token_type: tokens.token_type ?? "bearer",
    expires_in: tokens.expires_in,
    expires_at: tokens.expires_at,
    user: { id: userId },
    ...device,
  });
}
