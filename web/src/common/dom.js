// dom: building the page from data. Every string becomes a text node or an attribute value, never markup,
// so a name or a reason from the API can only ever show as text (the build refuses innerHTML and its kin).
//
//   h('p', { class: 'muted', onclick: fn, 'data-x': '1', hidden: true }, 'text', otherNode, [more, nodes])
//
// Props: `class`, `style` (an object), `on<event>` (a listener), `dataset` (an object), boolean props
// (hidden, disabled, checked, required, ...) and anything else as an attribute. Children: strings and
// numbers (text), nodes, arrays of either, and null/undefined/false (skipped).
// An `on<event>` prop must be a function (a string there would be script), and a URL in href, src or action
// must be the page's own, a blob: or a data:image (never javascript:): h() throws otherwise.

const URL_PROPS = new Set(['href', 'src', 'action', 'formaction', 'xlink:href']);

function safeUrl(v) {
	const s = String(v);
	if (/^(blob:|data:image\/)/i.test(s)) return s;
	const u = new URL(s, document.baseURI);
	if (u.origin !== location.origin) throw new Error(`dom: a URL of another origin: ${u.origin}`);
	return s;
}

export function h(tag, props, ...children) {
	const el = document.createElement(tag);
	for (const [k, v] of Object.entries(props || {})) {
		if (v === null || v === undefined || v === false) continue;
		if (k === 'class') el.className = Array.isArray(v) ? v.filter(Boolean).join(' ') : v;
		else if (k === 'style') Object.assign(el.style, v);
		else if (k === 'dataset') Object.assign(el.dataset, v);
		else if (/^on/i.test(k)) {
			if (typeof v !== 'function') throw new Error(`dom: ${k} must be a function`);
			el.addEventListener(k.slice(2), v);
		} else if (URL_PROPS.has(k.toLowerCase())) el.setAttribute(k, safeUrl(v));
		else if (v === true) el.setAttribute(k, '');
		else if (k === 'value' || k === 'checked' || k === 'disabled') el[k] = v;
		else el.setAttribute(k, String(v));
	}
	append(el, children);
	return el;
}

// Appends children (as h() takes them) to el; returns el.
export function append(el, children) {
	for (const c of [children].flat(Infinity)) {
		if (c === null || c === undefined || c === false) continue;
		el.append(c instanceof Node ? c : document.createTextNode(String(c)));
	}
	return el;
}

// Replaces el's children with children; returns el.
export function replace(el, ...children) {
	el.replaceChildren();
	return append(el, children);
}

export const $ = (sel, root = document) => root.querySelector(sel);
export const $$ = (sel, root = document) => [...root.querySelectorAll(sel)];

// A time (RFC 3339 text, a Date, or ms since the epoch) as local date and time ("2026-11-27 08:00", and
// ":05" withSeconds), or '' for none. The form is fixed: a part of it is a slice (time of day: .slice(11)).
export function when(at, withSeconds = false) {
	if (at === null || at === undefined || at === '') return '';
	const d = new Date(at);
	if (Number.isNaN(d.getTime())) return String(at);
	const p = (n) => String(n).padStart(2, '0');
	const t = `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
	return withSeconds ? `${t}:${p(d.getSeconds())}` : t;
}
