// api: calls to the suishen HTTP API from a page (same origin; see docs/api.md). Errors arrive as
// ApiError carrying the contract's stable code, its message, the field it names and, for a 429, the seconds its
// Retry-After header asks to wait (retryAfter, null when there is none).

export class ApiError extends Error {
	constructor(status, code, message, field, errors, retryAfter = null) {
		super(message || code || `HTTP ${status}`);
		this.status = status;
		this.code = code || 'unknown';
		this.field = field || null;
		this.errors = errors || null;
		this.retryAfter = retryAfter;
	}
}

// Retry-After as whole seconds (the delta-seconds form, or an HTTP date), or null.
function retryAfterOf(res) {
	const v = (res.headers.get('Retry-After') || '').trim();
	if (!v) return null;
	if (/^\d+$/.test(v)) return Number(v);
	const at = Date.parse(v);
	return Number.isFinite(at) ? Math.max(0, Math.ceil((at - Date.now()) / 1000)) : null;
}

// Calls method path; body (an object) is sent as JSON. Options: token (a bearer token), headers (more
// headers), raw (return the Response itself, for images). Answers the parsed JSON (null for an empty body).
export async function call(method, path, { token, body, headers = {}, raw = false } = {}) {
	const h = { ...headers };
	if (token) h.Authorization = `Bearer ${token}`;
	if (body !== undefined) h['Content-Type'] = 'application/json';
	let res;
	try {
		res = await fetch(path, {
			method,
			headers: h,
			body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
			cache: 'no-store',
			credentials: 'omit',
		});
	} catch (e) {
		throw new ApiError(0, 'network', e.message || 'network error');
	}
	if (res.ok && raw) return res;
	const text = await res.text();
	let data = null;
	if (text) {
		try {
			data = JSON.parse(text);
		} catch {
			if (res.ok) throw new ApiError(res.status, 'bad_answer', 'the server answered something that is not JSON');
		}
	}
	if (!res.ok) {
		const e = (data && data.error) || {};
		throw new ApiError(res.status, e.code, e.message, e.field, data && data.errors, retryAfterOf(res));
	}
	return data;
}

export const get = (path, opts) => call('GET', path, opts);
export const post = (path, body, opts = {}) => call('POST', path, { ...opts, body: body === undefined ? {} : body });
export const del = (path, opts) => call('DELETE', path, opts);
