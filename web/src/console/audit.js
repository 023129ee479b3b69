// audit: searching the audit log (security). Filters by actor, action, the person concerned (by ID number,
// sent in the body of POST /v1/staff/audit/search, never in a URL) and time; newest first, paged by entry
// number. Each entry's detail shows as pretty-printed JSON text.
import { h, replace } from '../common/dom.js';
import { t } from './strings.js';
import { api } from './session.js';
import { messageBox, table, field, when, jsonText, busy, fromLocalInput, pager } from './ui.js';

const ACTIONS = ['login', 'login.failed', 'login.throttled', 'status.change', 'scan.unmasked', 'key.rotate', 'key.retire', 'staff.create',
	'import.records', 'import.population', 'rules.apply', 'POST /v1/staff/status', 'POST /v1/staff/trace', 'GET /v1/staff/me'];

function actorText(a) {
	if (!a) return '';
	const parts = [a.id !== undefined && a.id !== null ? `${a.kind}:${a.id}` : a.kind];
	if (a.name) parts.push(a.name);
	if (a.role) parts.push(`(${a.role})`);
	if (a.org) parts.push(a.org);
	if (a.place) parts.push(a.place);
	return parts.join(' ');
}

export function audit(main) {
	const box = messageBox('audit-error');
	const out = h('div', { id: 'audit-result' });
	const count = h('p', { id: 'audit-count', class: 'muted' });
	const actor = h('input', { maxlength: '40', autocomplete: 'off', class: 'mono' });
	const action = h('input', { maxlength: '100', autocomplete: 'off', list: 'audit-actions' });
	const subject = h('input', { maxlength: '18', autocomplete: 'off', spellcheck: 'false', class: 'mono' });
	const from = h('input', { type: 'datetime-local' });
	const to = h('input', { type: 'datetime-local' });
	const unmasked = h('input', { type: 'checkbox', id: 'audit-unmasked' });
	const limit = h('select', null, ['50', '100', '200', '500'].map((n) => h('option', { value: n }, n)));
	const submit = h('button', { id: 'audit-search', type: 'submit' }, t('au_search'));
	const older = h('button', { id: 'audit-older', type: 'button', class: 'secondary', hidden: true }, t('au_older'));
	const form = h('form', { id: 'audit-form', class: 'card', novalidate: true },
		h('datalist', { id: 'audit-actions' }, ACTIONS.map((a) => h('option', { value: a }))),
		h('div', { class: 'row3' },
			field('audit-actor', t('au_actor'), actor),
			field('audit-action', t('au_action'), action),
			field('audit-subject', t('au_subject'), subject)),
		h('div', { class: 'row3' },
			field('audit-from', t('au_from'), from),
			field('audit-to', t('au_to'), to),
			field('audit-limit', t('au_limit'), limit)),
		h('label', { class: 'check-label', for: 'audit-unmasked' }, unmasked, ' ', t('au_unmasked')),
		box, h('div', { class: 'row' }, submit));
	let query = null;

	function render(entries) {
		replace(count, t('au_count', { n: entries.length }));
		replace(out, table([t('au_seq'), t('au_at'), t('au_who'), t('au_what'), t('au_subj'), t('au_why'), t('au_detail')],
			entries.map((e) => [String(e.seq), when(e.at, true), actorText(e.actor), h('span', { class: 'mono' }, e.action),
				e.subject === null || e.subject === undefined ? '—' : String(e.subject), e.why || '', [e.unmasked ? h('span', { class: 'pill yellow' }, 'unmasked') : null, jsonText(e.detail)]]),
			{ empty: t('au_empty'), rowProps: (i) => ({ class: 'audit-row', 'data-seq': entries[i].seq, 'data-action': entries[i].action }) }));
	}

	// Newest first, older entries by the number of the last shown (before); the query in the body, as searched.
	const pages = pager({
		more: older, box, render,
		async fetchPage(before) {
			const body = { ...query };
			if (before) body.before = before;
			const d = await api('POST', '/v1/staff/audit/search', body);
			return [d.entries, d.next_before];
		},
	});

	form.addEventListener('submit', (ev) => {
		ev.preventDefault();
		query = { limit: Number(limit.value) };
		if (actor.value.trim()) query.actor = actor.value.trim();
		if (action.value.trim()) query.action = action.value.trim();
		if (subject.value.trim()) query.id_number = subject.value.trim();
		if (from.value) query.from = fromLocalInput(from.value);
		if (to.value) query.to = fromLocalInput(to.value);
		if (unmasked.checked) query.unmasked = true;
		replace(out);
		replace(count);
		busy(submit, box, () => pages.first());
	});

	replace(main, h('h1', null, t('au_title')), form, h('div', { class: 'card' }, count, out, older));
}
