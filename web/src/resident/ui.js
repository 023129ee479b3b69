// ui: the small pieces the resident views share: labelled fields, error boxes that name the field the API
// blamed, colour pills, and a button that stays disabled while its request is in flight.
import { h, replace, when } from '../common/dom.js';
import { ApiError } from '../common/api.js';
import { t, L } from './strings.js';

// A label and its control; the control's id ties them together.
export function field(labelKey, control, hint) {
	return h('div', { class: 'field' },
		h('label', { for: control.id }, L(labelKey)),
		control,
		hint ? h('div', { class: 'hint muted' }, L(hint)) : null,
		h('div', { class: 'field-error', hidden: true, role: 'alert' }));
}

// Clears what showError left in form (and box).
export function clearError(box, form) {
	if (box) {
		box.hidden = true;
		replace(box);
	}
	if (form) {
		for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
		for (const el of form.querySelectorAll('.field-error')) {
			el.hidden = true;
			replace(el);
		}
	}
}

// How long to wait after a 429, in our words: seconds, or whole minutes once it is long (a locked account).
function waitText(s) {
	return s >= 120 ? t('err.waitMin', { n: Math.ceil(s / 60) }) : t('err.wait', { n: Math.max(1, s) });
}

// What an error says to a person: our words for its code, and the server's own message for a bad field
// (it names the rule broken, e.g. "phone must be 7-15 digits").
export function errorText(err, overrides = {}) {
	if (!(err instanceof ApiError)) return t('err.unknown');
	const own = overrides[err.code] || overrides[err.status];
	if (own) return t(own);
	// Too many tries: how long to wait (the Retry-After header), never the server's English.
	if (err.status === 429) return Number.isFinite(err.retryAfter) ? waitText(err.retryAfter) : t('err.rate_limited');
	const ours = t.or(`err.${err.code}`, null);
	// The server's message names the rule broken (in English); our sentence says what to do about it.
	if (err.code === 'invalid_argument' && err.message) return `${ours} ${err.message}`;
	return ours || err.message || t('err.unknown');
}

// Buttons held disabled after a 429 until the time the server named (ms); busy() leaves them so.
const held = new WeakMap();

function holdOff(button, seconds) {
	const until = Date.now() + seconds * 1000;
	if ((held.get(button) || 0) >= until) return;
	held.set(button, until);
	button.disabled = true;
	setTimeout(() => {
		if (held.get(button) !== until) return; // a later hold runs longer
		held.delete(button);
		button.disabled = false;
	}, until - Date.now());
}

const isHeld = (button) => (held.get(button) || 0) > Date.now();

// Shows err in box; if the API named a field that form has (fieldIds maps API names to element ids), the
// message goes under that field too and the field is marked invalid. After a 429 the form's submit button
// stays disabled for the seconds the server asked to wait.
export function showError(box, err, form, fieldIds = {}, overrides = {}) {
	clearError(box, form);
	if (form && err instanceof ApiError && err.status === 429 && err.retryAfter > 0) {
		for (const b of form.querySelectorAll('button[type="submit"]')) holdOff(b, err.retryAfter);
	}
	const text = errorText(err, overrides);
	const id = err && err.field ? fieldIds[err.field] : null;
	const input = id && form ? form.querySelector(`#${id}`) : null;
	if (input) {
		input.setAttribute('aria-invalid', 'true');
		const slot = input.parentElement.querySelector('.field-error');
		if (slot) {
			replace(slot, text);
			slot.hidden = false;
		}
		input.focus();
	}
	if (box) {
		replace(box, text);
		box.hidden = false;
	}
}

export const errorBox = (id) => h('div', { class: 'error', id, role: 'alert', hidden: true });
export const noticeBox = (id) => h('div', { class: 'notice', id, role: 'status', hidden: true });

export function notice(box, key, vars) {
	replace(box, t(key, vars));
	box.hidden = false;
}

// Runs fn with button disabled (and its label swapped for busyKey), whatever fn does.
export async function busy(button, busyKey, fn) {
	const label = [...button.childNodes];
	button.disabled = true;
	if (busyKey) replace(button, t(busyKey));
	try {
		return await fn();
	} finally {
		button.disabled = isHeld(button);
		if (busyKey) replace(button, label);
	}
}

// A colour from the API, as one of ours (anything else is grey): what may go into a class.
export const COLORS = ['green', 'yellow', 'red'];
export const safeColor = (c) => (COLORS.includes(c) ? c : 'grey');

export const pill = (color, text) => h('span', { class: ['pill', safeColor(color)] }, text);

// A colour's word (the shared result.* of common/labels.js), or '—' for anything that is not one of ours.
export const colorWord = (c) => t.or(`result.${safeColor(c)}`, '—');

export function resultPill(result) {
	return pill(result, t.or(`result.${result}`, result));
}

export const byteLength = (s) => new TextEncoder().encode(s).length;

// The API's limits are UTF-8 bytes (a Chinese character is 3): an error (as showError takes it, naming field) if
// text is longer than max bytes, else null. Said in the page's language, before anything is sent.
export function tooLong(text, max, field) {
	const n = byteLength(text);
	return n > max ? new ApiError(400, 'too_long_here', t('err.bytes', { max, n }), field) : null;
}

export const time = (rfc3339) => h('time', { datetime: rfc3339 }, when(rfc3339));

// A section's "nothing here" line.
export const empty = (key) => h('p', { class: 'muted empty' }, L(key));
