// appeals: contesting my colour (POST /v1/me/appeals) and following what happens to it (GET /v1/me/appeals,
// and one appeal with its timeline and decision). What I wrote comes back from the API and is shown as text.
import { h, replace, when } from '../common/dom.js';
import { t, L } from './strings.js';
import { meGet, mePost } from './session.js';
import { field, errorBox, noticeBox, showError, clearError, notice, busy, tooLong, colorWord } from './ui.js';

const STATE_COLOR = { submitted: 'grey', assigned: 'grey', checking: 'yellow', upheld: 'green', rejected: 'red', closed: 'grey' };
const statePill = (s) => h('span', { class: ['pill', STATE_COLOR[s] || 'grey', 'appeal-state'] }, t.or(`state.${s}`, s));
// A decision as a class: one of these, or none.
const DECISIONS = ['upheld', 'rejected'];
// The API's limits, in UTF-8 bytes (docs/api.md).
const REASON_MAX = 200;
const DETAILS_MAX = 4000;

function stepLabel(step) {
	if (step.action === 'checked' && step.kind) return t.or(`step.checked.${step.kind}`, t('step.checked'));
	if (step.action === 'decided' && step.kind) return t('step.decidedAs', { state: t.or(`state.${step.kind}`, step.kind) });
	return t.or(`step.${step.action}`, step.action);
}

export function appealsView({ compose = false } = {}) {
	let appeals = null;
	let open = null; // the appeal shown in full
	const err = errorBox('appeal-error');
	const note = noticeBox('appeal-notice');
	const list = h('div', { id: 'appeal-list' }, h('p', { class: 'muted' }, L('loading')));
	const detail = h('div', { id: 'appeal-detail' });

	// No maxlength: it counts characters, and the limits are bytes (checked before sending).
	const reason = h('textarea', { id: 'appeal-reason', rows: '3' });
	const details = h('textarea', { id: 'appeal-details', rows: '4' });
	const formErr = errorBox('appeal-form-error');
	const submit = h('button', { type: 'submit', id: 'appeal-submit' }, L('ap.submit'));
	const cancel = h('button', { type: 'button', class: 'secondary', id: 'appeal-cancel' }, L('cancel'));
	const form = h('form', { id: 'appeal-form', novalidate: true, hidden: !compose },
		field('ap.reason', reason),
		field('ap.details', details),
		formErr,
		h('div', { class: 'row' }, submit, cancel));
	const newBtn = h('button', { type: 'button', id: 'appeal-new', hidden: compose }, L('ap.new'));
	newBtn.addEventListener('click', () => {
		form.hidden = false;
		newBtn.hidden = true;
		note.hidden = true;
		reason.focus();
	});
	cancel.addEventListener('click', () => {
		form.hidden = true;
		newBtn.hidden = false;
		clearError(formErr, form);
	});
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		clearError(formErr, form);
		const r = reason.value.trim();
		// Details are optional here; the API wants some, so a short appeal repeats its reason.
		const d = details.value.trim() || r;
		const long = tooLong(r, REASON_MAX, 'reason') || tooLong(d, DETAILS_MAX, 'details');
		if (long) return showError(formErr, long, form, { reason: 'appeal-reason', details: 'appeal-details' });
		await busy(submit, null, async () => {
			try {
				const a = await mePost('/v1/me/appeals', { reason: r, details: d });
				form.reset();
				form.hidden = true;
				newBtn.hidden = false;
				notice(note, 'ap.filed', { id: a.appeal_id });
				await load();
			} catch (e) {
				showError(formErr, e, form, { reason: 'appeal-reason', details: 'appeal-details' });
			}
		});
	});

	function item(a) {
		return h('li', { class: 'appeal-item', dataset: { state: a.state, appealId: String(a.appeal_id) } },
			h('button', { type: 'button', class: 'appeal-open', onclick: () => show(a.appeal_id) },
				h('div', { class: 'item-main' },
					h('div', { class: 'item-title' }, h('span', { class: 'appeal-reason-text' }, a.reason || t('ap.number', { id: a.appeal_id }))),
					h('div', { class: 'muted' }, `${t('ap.number', { id: a.appeal_id })} · ${t('ap.filedAt', { t: when(a.filed_at) })}`)),
				statePill(a.state)));
	}

	function renderDetail() {
		if (!open) return replace(detail);
		const a = open;
		const dec = a.decision;
		replace(detail, h('section', { class: 'card appeal-detail', dataset: { appealId: String(a.appeal_id), state: a.state } },
			h('div', { class: 'row' }, h('h2', null, t('ap.number', { id: a.appeal_id })), h('span', { class: 'spacer' }), statePill(a.state)),
			h('p', { class: 'appeal-reason-text item-title' }, a.reason),
			a.details && a.details !== a.reason ? h('p', { class: 'appeal-details-text' }, a.details) : null,
			h('p', { class: 'muted' }, [t('ap.filedAt', { t: when(a.filed_at) }), t('ap.dueAt', { t: when(a.due_at) }),
				t('ap.channel', { c: t.or(`channel.${a.channel}`, a.channel) })].join(' · ')),
			dec ? h('div', { class: ['decision', DECISIONS.includes(dec.decision) ? dec.decision : null], id: 'appeal-decision' },
				h('h3', null, t('ap.decision'), ' ', statePill(dec.decision)),
				h('p', null, dec.reason),
				dec.color ? h('p', null, t('ap.newColor', { color: colorWord(dec.color), t: when(dec.until) })) : null,
				h('p', { class: 'muted' }, when(dec.decided_at))) : null,
			h('h3', null, t('ap.timeline')),
			h('ol', { class: 'timeline' }, (a.timeline || []).map((s) =>
				h('li', { dataset: { action: s.action } },
					h('div', null, stepLabel(s)),
					h('div', { class: 'muted' }, `${when(s.at)} · ${t.or(`actor.${s.actor && s.actor.kind}`, '')}`)))),
			h('button', { type: 'button', class: 'secondary', onclick: () => { open = null; renderDetail(); } }, t('back'))));
	}

	async function show(id) {
		try {
			open = await meGet(`/v1/me/appeals/${encodeURIComponent(id)}`);
			renderDetail();
			detail.scrollIntoView({ block: 'start' });
		} catch (e) {
			showError(err, e);
		}
	}

	function render() {
		if (appeals) replace(list, appeals.length ? h('ul', { class: 'list appeals' }, appeals.map(item)) : h('p', { class: 'muted empty' }, t('ap.none')));
		renderDetail();
	}

	async function load() {
		err.hidden = true;
		try {
			appeals = (await meGet('/v1/me/appeals')).appeals || [];
			if (open) open = await meGet(`/v1/me/appeals/${encodeURIComponent(open.appeal_id)}`);
			render();
		} catch (e) {
			showError(err, e);
		}
	}
	load();

	const el = h('div', { id: 'appeals-view' },
		h('section', { class: 'card' },
			h('h2', null, L('ap.title')),
			h('p', { class: 'muted' }, L('ap.lead')),
			newBtn,
			form,
			note),
		detail,
		h('section', { class: 'card' }, err, list));
	return { el, relabel: render, refresh: load };
}
