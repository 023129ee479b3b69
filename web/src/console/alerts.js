// alerts: the security watcher's alerts, newest first, by kind, as a security officer acts on them: who (people
// masked as the API gives them, staff by name, a terminal by its place), where (place and organisation, with the
// time of each sighting of a shared code), what happened in words, and the ids as pretty-printed JSON under a
// fold for the audit search. An alert not yet acknowledged has a button to acknowledge it (the first stands).
import { h, replace } from '../common/dom.js';
import { t } from './strings.js';
import { api } from './session.js';
import { messageBox, table, field, when, jsonText, busy, pager } from './ui.js';

const KINDS = ['probing', 'shared_code', 'staff_reads', 'login_failures'];

// A person named by an alert, masked by the API: 张* (31**************34), or that they cannot be shown.
const personText = (p) => (p ? t('al_person', { name: p.name, id: p.id_number }) : t('al_person_unknown'));

// Who the alert is about.
function who(a) {
	const d = a.detail || {};
	if (a.kind === 'shared_code') {
		return h('div', null, h('div', { class: 'alert-person' }, personText(a.person)),
			a.presenter !== undefined ? h('div', { class: 'muted alert-presenter' }, t('al_presented_by', { who: personText(a.presenter) })) : null);
	}
	if (a.kind === 'staff_reads' && a.staff) return h('div', { class: 'alert-staff' }, t('al_staff', { name: a.staff.name, role: t.or(`role_${a.staff.role}`, a.staff.role) }));
	if (a.kind === 'probing') return h('div', null, t('al_terminal', { id: d.terminal_id }));
	if (a.kind === 'login_failures') return h('div', null, t('al_source'), ' ', h('span', { class: 'mono' }, d.source || ''));
	return h('span', { class: 'mono' }, a.subject);
}

// Where: each place with its organisation, and for a shared code when it was seen there.
function where(a) {
	const at = (a.detail && a.detail.scanned_at) || [];
	return h('ul', { class: 'alert-places' }, (a.places || []).map((p, i) => h('li', { class: 'alert-place' },
		h('strong', null, p.place), ' · ', p.org, at[i] ? h('span', { class: 'muted' }, ' ', when(at[i], true)) : null)));
}

// What happened, in words; the figures come from the detail.
function what(a) {
	const d = a.detail || {};
	const share = (x) => `${Math.round((x || 0) * 100)}%`;
	const minutes = Math.round((d.window_seconds || 0) / 60);
	const words = {
		shared_code: () => t('al_what_shared', { s: d.seconds_apart }),
		probing: () => t('al_what_probing', { m: minutes, n: d.scans, bad: d.invalid, share: share(d.share), before: share(d.share_before) }),
		staff_reads: () => t('al_what_reads', { h: Math.round((d.window_seconds || 0) / 3600), n: d.reads, median: d.peers_median }),
		login_failures: () => t('al_what_logins', { m: minutes, n: d.failures }),
	}[a.kind];
	return h('div', null, h('div', { class: 'alert-what' }, words ? words() : ''),
		h('details', { class: 'numbers' }, h('summary', null, t('al_ids')), jsonText(a.detail)));
}

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
		if (a.acknowledged) {
			const by = a.acknowledged.name || `#${a.acknowledged.by}`;
			return h('span', { class: 'muted acked' }, t('al_acked', { by, at: when(a.acknowledged.at) }));
		}
		const b = h('button', { type: 'button', class: 'secondary alert-ack' }, t('al_ack'));
		b.addEventListener('click', () => busy(b, box, async () => {
			await api('POST', `/v1/staff/alerts/${a.alert_id}/ack`);
			await load();
		}));
		return b;
	}

	function render(rows) {
		replace(list, table([t('al_id'), t('al_kind'), t('al_raised'), t('al_who'), t('al_where'), t('al_detail'), ''],
			rows.map((a) => [`#${a.alert_id}`, t.or(`kind_${a.kind}`, a.kind), when(a.raised_at, true), who(a), where(a), what(a), ackCell(a)]),
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
