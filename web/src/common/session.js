// session: a page's bearer token and the calls made with it. The token lives in sessionStorage (it dies with the
// tab, and never goes into a URL or the log); every call carries it, with the page's own extra headers (the
// resident page names its channel: { 'X-Channel': 'web' }).
//
//   const s = session('suishen.resident.token', { 'X-Channel': 'web' });
//   s.setToken(tok); await s.api('GET', '/v1/me'); s.whenExpired(() => showLogin());
//
// A 401 means the session is over, but only if it answers the token this tab still holds: a call made with an
// older token (logged out, or logged in again since) that answers late must not end the new session.
import { call, ApiError } from './api.js';

export function session(key, headers = {}) {
	let onExpired = () => {};
	const token = () => sessionStorage.getItem(key);
	const setToken = (tok) => sessionStorage.setItem(key, tok);
	const clearToken = () => sessionStorage.removeItem(key);

	// A call with the token held: api(method, path, body?, { raw }). Without a token nothing is asked (a view's
	// late call after log-out); a 401 for the token still held forgets it and calls the whenExpired function.
	async function api(method, path, body, { raw = false } = {}) {
		const tok = token();
		if (!tok) throw new ApiError(401, 'unauthenticated', 'not logged in');
		try {
			return await call(method, path, { token: tok, body, raw, headers });
		} catch (e) {
			if (e instanceof ApiError && e.status === 401 && token() === tok) {
				clearToken();
				onExpired();
			}
			throw e;
		}
	}

	return {
		headers,
		token,
		setToken,
		clearToken,
		api,
		// fn() is called when the server no longer knows the token held (the page shows log-in, saying why).
		whenExpired(fn) {
			onExpired = fn;
		},
	};
}
