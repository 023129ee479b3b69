// signed: the terminal's own requests, each signed as docs/api.md "Terminals" says (HMAC-SM3 over method,
// path, timestamp, nonce and SM3 of the body), and where the terminal's id and secret are kept.
import { call } from '../common/api.js';
import { sm3, hmacSm3, toHex, fromHex, utf8 } from './sm3.js';

const KEY = 'suishen.terminal';

// The saved terminal { id, secret, org, place, scene }, or null. The issue keeps them in the browser
// (localStorage): a guard's tablet must survive a restart without anyone typing the secret again.
export function loadTerminal() {
	try {
		const t = JSON.parse(localStorage.getItem(KEY) || 'null');
		return t && validId(t.id) && validSecret(t.secret) ? t : null;
	} catch {
		return null;
	}
}

export function saveTerminal(t) {
	localStorage.setItem(KEY, JSON.stringify(t));
}

export function forgetTerminal() {
	localStorage.removeItem(KEY);
}

export const validId = (s) => /^[1-9][0-9]{0,17}$/.test(String(s));
export const validSecret = (s) => /^[0-9a-fA-F]{64}$/.test(String(s));

// 16 random bytes as 32 hex characters: a nonce the server has not seen from us within its window.
function nonce() {
	const b = new Uint8Array(16);
	crypto.getRandomValues(b);
	return toHex(b);
}

// Calls method path as terminal {id, secret}; body (an object) goes as JSON. Answers as api.js call() does
// (throws ApiError; status 401 for a wrong secret or a clock more than 300 s off).
export function signedCall(term, method, path, body) {
	const text = body === undefined ? '' : JSON.stringify(body);
	const ts = String(Math.floor(Date.now() / 1000));
	const n = nonce();
	const message = `${method}\n${path}\n${ts}\n${n}\n${toHex(sm3(utf8(text)))}`;
	const signature = toHex(hmacSm3(fromHex(term.secret), utf8(message)));
	return call(method, path, {
		body: body === undefined ? undefined : text,
		headers: { 'X-Terminal-Id': String(term.id), 'X-Timestamp': ts, 'X-Nonce': n, 'X-Signature': signature },
	});
}

// How far this device's clock is from the server's, in seconds (server minus ours), from the Date header of
// GET /healthz; null if that cannot be learnt. A 401 with the clock more than SKEW_LIMIT off is the clock's
// fault, not the secret's: the guard must be told which to fix.
export const SKEW_LIMIT = 240; // the server allows 300 s; the Date header is to the second and the trip takes time
export async function clockSkew() {
	try {
		const sent = Date.now();
		const res = await fetch('/healthz', { cache: 'no-store', credentials: 'omit' });
		const date = Date.parse(res.headers.get('Date') || '');
		if (Number.isNaN(date)) return null;
		return Math.round((date - (sent + Date.now()) / 2) / 1000);
	} catch {
		return null;
	}
}

// For a 401: { key, vars } of the message that names the likely cause (the clock, or else the secret).
export async function why401(clockKey, secretKey) {
	const skew = await clockSkew();
	if (skew !== null && Math.abs(skew) > SKEW_LIMIT) return { key: clockKey, vars: { min: Math.max(1, Math.round(Math.abs(skew) / 60)) } };
	return { key: secretKey };
}
