// session: the resident's token (sessionStorage: it dies with the tab, and never goes into a URL or the log)
// and the calls made with it. A 401 from any call means the session is over: the page goes back to log-in.
import { call, ApiError } from '../common/api.js';

const KEY = 'suishen.resident.token';
let onExpired = () => {};

export const token = () => sessionStorage.getItem(KEY);
export const setToken = (tok) => sessionStorage.setItem(KEY, tok);
export const clearToken = () => sessionStorage.removeItem(KEY);

// fn() is called once when a call answers 401 (the page shows log-in with a message).
export function whenExpired(fn) {
	onExpired = fn;
}

// A call as the logged-in resident; the web channel names itself.
export async function me(method, path, body, { raw = false } = {}) {
	const tok = token();
	if (!tok) {
		// Logged out meanwhile (a view's late call): nothing to ask, nowhere new to go.
		throw new ApiError(401, 'unauthenticated', 'not logged in');
	}
	try {
		return await call(method, path, { token: tok, body, raw, headers: { 'X-Channel': 'web' } });
	} catch (e) {
		// Only the token we still hold is over; an older call answering late must not log out a new session.
		if (e instanceof ApiError && e.status === 401 && token() === tok) {
			clearToken();
			onExpired();
		}
		throw e;
	}
}

export const meGet = (path, opts) => me('GET', path, undefined, opts);
// No body at all when none is given: the accept and decline endpoints take none (or an empty object).
export const mePost = (path, body) => me('POST', path, body);
export const meDel = (path) => me('DELETE', path);
