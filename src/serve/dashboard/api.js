// Calls the API with the bearer token when one is needed. The token lives in sessionStorage for
// this tab only and travels in the Authorization header, never in a URL (URLs end up in logs).

const TOKEN_KEY = 'flowgate.token';

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.error ?? body?.message ?? `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

let askToken = null;
let pendingLogin = null;

/** `ask(reason)` resolves with a token the user typed (shows the login form). */
export function onTokenNeeded(ask) {
  askToken = ask;
}

function headers() {
  const token = sessionStorage.getItem(TOKEN_KEY);
  return token ? { authorization: `Bearer ${token}` } : {};
}

/** GET path?params as JSON; asks for the token once on 401 and retries. */
export async function getJson(path, params = {}) {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(params))
    if (v !== null && v !== undefined && v !== '') qs.set(k, String(v));
  const url = qs.size > 0 ? `${path}?${qs}` : path;
  for (let attempt = 0; attempt < 4; attempt++) {
    const sent = sessionStorage.getItem(TOKEN_KEY);
    const res = await fetch(url, { headers: headers(), cache: 'no-store' });
    if (res.status === 401 && askToken !== null) {
      // Every panel refreshes at once and they share one login form. A 401 for a token that has
      // since been replaced (another panel's login finished while this request was on its way)
      // says nothing about the new one: retry with it instead of throwing it away and asking again.
      const current = sessionStorage.getItem(TOKEN_KEY);
      if (current !== null && current !== sent) continue;
      if (pendingLogin === null) {
        sessionStorage.removeItem(TOKEN_KEY);
        pendingLogin = askToken(sent !== null ? 'invalid token' : null).finally(() => {
          pendingLogin = null;
        });
        pendingLogin.then((token) => sessionStorage.setItem(TOKEN_KEY, token));
      }
      await pendingLogin;
      continue;
    }
    const body = await res.json().catch(() => null);
    if (!res.ok) throw new ApiError(res.status, body);
    return body;
  }
  throw new ApiError(401, { error: 'not signed in' });
}
