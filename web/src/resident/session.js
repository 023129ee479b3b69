// session: the resident's token and the calls made with it (common/session.js): the web channel names itself on
// every call, and a 401 for the token still held means the session is over (the page goes back to log-in).
import { session } from '../common/session.js';

const s = session('suishen.resident.token', { 'X-Channel': 'web' });

// The headers of every call of this page, also those made without the token (log-in, registering, log-out).
export const CHANNEL = s.headers;
export const { token, setToken, clearToken, whenExpired } = s;

// A call as the logged-in resident: me(method, path, body?, { raw }).
export const me = s.api;
export const meGet = (path, opts) => me('GET', path, undefined, opts);
// No body at all when none is given: the accept and decline endpoints take none (or an empty object).
export const mePost = (path, body) => me('POST', path, body);
export const meDel = (path) => me('DELETE', path);
