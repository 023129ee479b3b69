// records: where my code was scanned (GET /v1/me/scans) and who read my personal data unmasked
// (GET /v1/me/access-log), in two tabs.
import { h, replace, when } from '../common/dom.js';
import { t, L } from './strings.js';
import { meGet } from './session.js';
import { errorBox, showError, resultPill } from './ui.js';

const scene = (s) => t.or(`scene.${s}`, s || '');

function scansList(scans) {
	if (!scans.length) return h('p', { class: 'muted empty' }, t('none'));
	return h('ul', { class: 'list', id: 'scans-list' }, scans.map((s) =>
		h('li', { class: 'scan-item', dataset: { result: s.result } },
			h('div', { class: 'item-main' },
				h('div', { class: 'item-title' }, s.place || '—'),
				h('div', { class: 'muted' }, `${scene(s.scene)} · ${when(s.scanned_at, true)}`)),
			resultPill(s.result))));
}

function who(by) {
	if (!by) return '—';
	if (by.kind === 'terminal') return [by.org, by.place].filter(Boolean).join(' · ') + (by.scene ? ` (${scene(by.scene)})` : '');
	if (by.role) return t('access.staff', { role: t.or(`role.${by.role}`, by.role) });
	return by.kind || '—';
}

function accessList(reads) {
	if (!reads.length) return h('p', { class: 'muted empty' }, t('none'));
	return h('ul', { class: 'list', id: 'access-list' }, reads.map((r) =>
		h('li', { class: 'access-item' },
			h('div', { class: 'item-main' },
				h('div', { class: 'item-title' }, who(r.by)),
				h('div', { class: 'muted' }, [when(r.at, true), t.or(`action.${r.action}`, r.action), r.why ? t.or(`scene.${r.why}`, r.why) : null].filter(Boolean).join(' · '))))));
}

export function recordsView() {
	let tab = 'scans';
	let scans = null;
	let reads = null;
	const err = errorBox('records-error');
	const body = h('div', { class: 'records-body' }, h('p', { class: 'muted' }, L('loading')));
	const tabScans = h('button', { type: 'button', role: 'tab', id: 'tab-scans' }, L('scans.tab'));
	const tabAccess = h('button', { type: 'button', role: 'tab', id: 'tab-access' }, L('access.tab'));

	function render() {
		tabScans.setAttribute('aria-selected', String(tab === 'scans'));
		tabAccess.setAttribute('aria-selected', String(tab === 'access'));
		const data = tab === 'scans' ? scans : reads;
		if (!data) return replace(body, h('p', { class: 'muted' }, t('loading')));
		replace(body,
			h('p', { class: 'muted' }, t(tab === 'scans' ? 'scans.lead' : 'access.lead')),
			tab === 'scans' ? scansList(data) : accessList(data));
	}

	async function load() {
		err.hidden = true;
		try {
			if (tab === 'scans') scans = (await meGet('/v1/me/scans')).scans || [];
			else reads = (await meGet('/v1/me/access-log')).reads || [];
			render();
		} catch (e) {
			showError(err, e);
		}
	}

	tabScans.addEventListener('click', () => {
		tab = 'scans';
		render();
		load();
	});
	tabAccess.addEventListener('click', () => {
		tab = 'access';
		render();
		load();
	});
	render();
	load();

	const el = h('section', { class: 'card', id: 'records-view' }, h('div', { class: 'tabs', role: 'tablist' }, tabScans, tabAccess), err, body);
	return { el, relabel: render, refresh: load };
}
