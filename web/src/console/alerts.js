// alerts: the security watcher's alerts, newest first, by kind, with their detail as pretty-printed JSON text;
// an alert not yet acknowledged has a button to acknowledge it (the first acknowledgement stands).
import { h, replace } from '../common/dom.js';
import { t } from './strings.js';
import { api } from './session.js';
import { messageBox, table, field, when, jsonText, busy, pager } from './ui.js';

const KINDS = ['probing', 'shared_code', 'staff_reads', 'login_failures'];

export async function alerts(main) {
	const box = messageBox('alerts-error');
	const list = h('div', { id: 'alert-list' });
	const more = h('button', { id: 'alert-more', class: 'secondary', type: 'button', hidden: true }, t('more'));
	const kind = h('select', { onchange: () => load() }, h('option', { value: '' }, t('al_all')), KINDS.map((k) => h('option', { value: k }, t(`kind_${k}`))));

	replace(main,
		h('div', { class: 'row' }, h('h1', null, t('al_title')), h('span', { class: 'spacer' }),
			h('button', { id: 'alert-refresh', class: 'secondary', type: 'button', onclick: () => load() }, t('refresh'))),
		box,
		h('div', { class: 'card' }, h('div', { class: 'filters' }, field('alert-kind', t('al_kind'), kind)), list, more));

	function ackCell(a) {
		if (a.acknowledged) return h('span', { class: 'muted acked' }, t('al_acked', { by: a.acknowledged.by, at: when(a.acknowledged.at) }));
		const b = h('button', { type: 'button', class: 'secondary alert-ack' }, t('al_ack'));
		b.addEventListener('click', () => busy(b, box, async () => {
			await api('POST', `/v1/staff/alerts/${a.alert_id}/ack`);
			await load();
		}));
		return b;
	}

	function render(rows) {
		replace(list, table([t('al_id'), t('al_kind'), t('al_raised'), t('al_subject'), t('al_detail'), ''],
			rows.map((a) => [`#${a.alert_id}`, t.or(`kind_${a.kind}`, a.kind), when(a.raised_at, true), h('span', { class: 'mono' }, a.subject), jsonText(a.detail), ackCell(a)]),
			{ empty: t('al_empty'), rowProps: (i) => ({ class: 'alert-row', 'data-alert-id': rows[i].alert_id, 'data-kind': rows[i].kind, 'data-acknowledged': rows[i].acknowledged ? 'true' : 'false' }) }));
	}

	// Newest first, 50 at a time, older ones by the number of the last shown (before).
	const pages = pager({
		more, box, render,
		async fetchPage(before) {
			const q = new URLSearchParams({ limit: '50' });
			if (kind.value) q.set('kind', kind.value);
			if (before) q.set('before', String(before));
			const d = await api('GET', `/v1/staff/alerts?${q}`);
			return [d.alerts, d.next_before];
		},
	});

	async function load() {
		box.clear();
		try {
			await pages.first();
		} catch (e) {
			box.error(e);
		}
	}
	await load();
}
