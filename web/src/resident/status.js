// status: my colour and why (GET /v1/me/status): each reason in the reader's language (text_en in English when
// the server has it), until when it holds, the kinds and dates of the records behind it, what an override sets
// aside (the rules' colour and their reasons), and the review date;
// then the history of changes (GET /v1/me/status/history).
import { h, replace, when } from '../common/dom.js';
import { getLang } from '../common/i18n.js';
import { t, L } from './strings.js';
import { meGet } from './session.js';
import { errorBox, showError, pill, safeColor, colorWord } from './ui.js';

const reasonText = (r) => (getLang() === 'en' && r.text_en ? r.text_en : r.text);

// What an override sets aside: the colour the rules give and their reasons, or nothing when they would give the
// same colour for no reason at all.
function overridden(o, color) {
	if (!o || (o.color === color && !(o.reasons && o.reasons.length))) return null;
	return h('div', { class: 'reason-overrides muted', dataset: { color: safeColor(o.color) } },
		t('status.overrides', { c: colorWord(o.color) }),
		o.reasons && o.reasons.length ? h('ul', { class: 'reasons' }, o.reasons.map((x) => reasonItem(x))) : null);
}

function reasonItem(r, color) {
	return h('li', { class: 'reason', dataset: { rule: r.rule || '' } },
		h('div', { class: 'reason-text' }, reasonText(r) || r.rule),
		r.until ? h('div', { class: 'muted' }, t('status.until', { t: when(r.until) })) : null,
		r.records && r.records.length
			? h('ul', { class: 'records muted' }, r.records.map((rec) =>
				h('li', null, `${t.or(`kind.${rec.kind}`, rec.kind)} · ${when(rec.occurred_at)}`)))
			: null,
		overridden(r.overrides, color));
}

export function statusView({ go }) {
	const body = h('div', { class: 'status-body' }, h('p', { class: 'muted' }, L('loading')));
	const hist = h('div', { class: 'status-history' });
	const err = errorBox('status-error');
	let status = null;
	let history = null;

	function render() {
		if (!status) return;
		const c = safeColor(status.color); // into a class: one of ours only
		replace(body,
			h('div', { class: 'status-head' },
				h('span', { id: 'status-color', class: ['status-color', 'pill', c], dataset: { color: c } }, colorWord(c)),
				h('span', { class: 'muted', id: 'status-since' }, status.since ? t('status.since', { t: when(status.since) }) : '')),
			h('p', { id: 'status-review', class: 'muted' },
				status.review_at ? t('status.review', { t: when(status.review_at) }) : t('status.noReview')),
			h('h3', null, t('status.reasons')),
			status.reasons && status.reasons.length
				? h('ul', { id: 'status-reasons', class: 'reasons' }, status.reasons.map((r) => reasonItem(r, status.color)))
				: h('p', { id: 'status-reasons', class: 'muted' }, t('status.noReasons')),
			c !== 'green' ? h('button', { type: 'button', class: 'secondary', id: 'status-appeal', onclick: () => go('appeals', { compose: true }) }, t('status.appeal')) : null);
		if (history && history.length) {
			replace(hist, h('h3', null, t('status.history')),
				h('ul', { class: 'history' }, history.map((ch) =>
					h('li', null, pill(ch.color, colorWord(ch.color)), ' ', h('span', { class: 'muted' }, when(ch.since)),
						ch.reasons && ch.reasons.length ? h('div', { class: 'muted' }, ch.reasons.map(reasonText).filter(Boolean).join(t('list.sep'))) : null))));
		} else replace(hist);
	}

	async function load() {
		err.hidden = true;
		try {
			status = await meGet('/v1/me/status');
			render();
		} catch (e) {
			showError(err, e);
			return;
		}
		try {
			history = (await meGet('/v1/me/status/history')).changes || [];
			render();
		} catch {
			history = null; // the colour itself is what matters; the history is a bonus
		}
	}
	load();

	const el = h('section', { class: 'card', id: 'status-view' }, h('h2', null, L('status.title')), err, body, hist);
	return { el, relabel: render, refresh: load };
}
