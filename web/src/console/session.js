// session: the member of staff logged in to this tab. The token lives in sessionStorage (gone with the tab,
// never in a URL or the console); every call carries it, and a 401 anywhere ends the session and shows the
// log-in again.
import { call } from '../common/api.js';

const KEY = 'suishen.console.token';
let me = null; // {staff_id, name, role}
let onExpired = () => {};

export const token = () => sessionStorage.getItem(KEY);
export const staff = () => me;

export function setSession(tok, who) {
	sessionStorage.setItem(KEY, tok);
	me = who;
}

export function endSession() {
	sessionStorage.removeItem(KEY);
	me = null;
}

// fn() is called when the server no longer knows the token.
export function whenExpired(fn) {
	onExpired = fn;
}

// A staff call: api(method, path, body?). A 401 ends the session (the log-in shows) and still throws.
export async function api(method, path, body) {
	try {
		return await call(method, path, { token: token(), body });
	} catch (e) {
		if (e.status === 401) {
			endSession();
			onExpired();
		}
		throw e;
	}
}

// Which sections each role may open (the server refuses the rest with 403 anyway).
export const SECTIONS = [
	{ id: 'dashboard', roles: ['admin', 'operator', 'handler', 'epidemiologist', 'security'] },
	{ id: 'appeals', roles: ['handler'] },
	{ id: 'operator', roles: ['operator'] },
	{ id: 'rules', roles: ['admin'] },
	{ id: 'trace', roles: ['epidemiologist'] },
	{ id: 'alerts', roles: ['security'] },
	{ id: 'audit', roles: ['security'] },
];

export const mayOpen = (section, role) => SECTIONS.some((s) => s.id === section && s.roles.includes(role));
