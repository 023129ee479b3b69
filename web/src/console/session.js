// session: the member of staff logged in to this tab (common/session.js: the token in sessionStorage, gone with
// the tab, never in a URL or the console); every call carries it, and a 401 for it ends the session and shows
// the log-in again.
import { session } from '../common/session.js';

const s = session('suishen.console.token');
let me = null; // {staff_id, name, role}
let onExpired = () => {};
s.whenExpired(() => {
	me = null;
	onExpired();
});

export const token = s.token;
export const staff = () => me;

export function setSession(tok, who) {
	s.setToken(tok);
	me = who;
}

export function endSession() {
	s.clearToken();
	me = null;
}

// fn() is called when the server no longer knows the token.
export function whenExpired(fn) {
	onExpired = fn;
}

// A staff call: api(method, path, body?). A 401 for the token still held ends the session (the log-in shows) and
// still throws; one for a token since replaced (a late answer) only throws.
export const api = (method, path, body) => s.api(method, path, body);

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
