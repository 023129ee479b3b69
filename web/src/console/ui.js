// ui: the console's small building blocks shared by its sections: labelled fields, tables, error and notice
// boxes, a confirmation dialog, times for inputs, and pretty JSON as text. Everything goes through dom.js, so
// text from the API is only ever text.
import { h, replace, when } from '../common/dom.js';
import { t } from './strings.js';

// A labelled field: field('trace-id', t('id_number'), h('input', {...})) -> <div><label for>..</label>input</div>.
export function field(id, label, control, hint) {
	control.id = id;
	return h('div', { class: 'field' }, h('label', { for: id }, label), control, hint ? h('div', { class: 'muted hint' }, hint) : null);
}

// A table from column headers and rows of cells (strings, numbers or nodes); rowProps(row index) adds attributes.
export function table(headers, rows, { caption, rowProps, empty } = {}) {
	if (!rows.length && empty) return h('p', { class: 'muted empty' }, empty);
	return h('table', { class: 'data' },
		caption ? h('caption', null, caption) : null,
		h('thead', null, h('tr', null, headers.map((x) => h('th', { scope: 'col' }, x)))),
		h('tbody', null, rows.map((cells, i) => h('tr', rowProps ? rowProps(i) : null, cells.map((c) => h('td', null, c))))));
}

// Says what went wrong with a call, in the page's words for the codes that matter to staff (403 is the role).
export function errorText(e) {
	if (!e || !e.status) return String((e && e.message) || e);
	if (e.status === 403) return t('err_forbidden');
	if (e.status === 0) return t('err_network');
	if (e.status === 404) return t('err_not_found') + (e.message ? ` (${e.message})` : '');
	if (e.status === 409) return t('err_conflict') + (e.message ? ` (${e.message})` : '');
	if (e.status === 422) return t('err_mismatch');
	if (e.status === 429) return t('err_rate');
	const f = e.field ? ` [${e.field}]` : '';
	return `${e.message || e.code}${f}`;
}

// A box that shows an error or a notice (or nothing): box.error(e), box.notice(text), box.clear().
export function messageBox(id) {
	const el = h('div', { id, role: 'status', 'aria-live': 'polite', hidden: true });
	el.error = (e) => {
		el.className = 'error';
		el.dataset.status = e && e.status ? String(e.status) : '';
		replace(el, errorText(e));
		el.hidden = false;
	};
	el.notice = (...text) => {
		el.className = 'notice';
		el.dataset.status = '';
		replace(el, ...text);
		el.hidden = false;
	};
	el.clear = () => {
		el.hidden = true;
		replace(el);
	};
	return el;
}

// Asks before something that cannot be undone; resolves true for OK. An in-page <dialog> (not window.confirm)
// so that it speaks the page's language and the tests can answer it like a person.
export function confirmDialog(text) {
	return new Promise((resolve) => {
		const done = (v) => {
			dlg.close();
			dlg.remove();
			resolve(v);
		};
		const dlg = h('dialog', { id: 'confirm', class: 'confirm' },
			h('p', { id: 'confirm-text' }, text),
			h('div', { class: 'row' },
				h('span', { class: 'spacer' }),
				h('button', { id: 'confirm-cancel', class: 'secondary', type: 'button', onclick: () => done(false) }, t('cancel')),
				h('button', { id: 'confirm-ok', type: 'button', onclick: () => done(true) }, t('ok'))));
		dlg.addEventListener('cancel', (ev) => {
			ev.preventDefault();
			done(false);
		});
		document.body.append(dlg);
		dlg.showModal();
	});
}

// Pretty-printed JSON as text (a <pre> of a text node: never markup).
export const jsonText = (v) => h('pre', { class: 'json' }, JSON.stringify(v, null, 2));

// A time for <input type="datetime-local"> (local time) and back to RFC 3339 UTC ('' -> undefined).
export const toLocalInput = (d) => when(d).replace(' ', 'T');
export function fromLocalInput(v) {
	if (!v) return undefined;
	const d = new Date(v);
	return Number.isNaN(d.getTime()) ? undefined : d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export { when };

// A colour or scan result in words (the shared result.* of common/labels.js); an unknown one as itself, none as '—'.
export const colorWord = (c) => t.or(`result.${c}`, c || '—');

// A colour (or scan result) as a pill in its colour.
export function colorPill(c) {
	const cls = c === 'green' || c === 'yellow' || c === 'red' ? c : 'grey';
	return h('span', { class: `pill ${cls}`, 'data-color': c || '' }, colorWord(c));
}

// Disables a button while fn runs (no double submits); errors go to box.
export async function busy(button, box, fn) {
	button.disabled = true;
	if (box) box.clear();
	try {
		return await fn();
	} catch (e) {
		if (box) box.error(e);
		else throw e;
	} finally {
		button.disabled = false;
	}
}

// Keyset paging of a list the API answers a page at a time. fetchPage(key) (null: the first page) answers
// [rows, the next page's key or null]; render(rows) shows all the rows so far; the more button, hidden while there
// is no next page, loads the next (its errors go to box). first() starts again from the top (and throws, for the
// caller to say); a page still on its way when first() is called again is dropped, not mixed into the new list.
export function pager({ more, box, fetchPage, render }) {
	const rows = [];
	let next = null;
	let round = 0;
	async function load(key) {
		const mine = round;
		const [got, after] = await fetchPage(key);
		if (mine !== round) return;
		rows.push(...got);
		next = after || null;
		more.hidden = !next;
		render(rows);
	}
	more.hidden = true;
	more.addEventListener('click', () => busy(more, box, () => load(next)));
	return {
		first() {
			round++;
			rows.length = 0;
			next = null;
			more.hidden = true;
			return load(null);
		},
	};
}
