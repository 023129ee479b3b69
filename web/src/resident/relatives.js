// relatives: the people whose codes I may show (GET/POST/DELETE /v1/me/dependents: a child is linked at
// once, an adult must agree), switching the big code to one of them, and the requests of others to show mine
// (GET /v1/me/guardian-requests, accept or decline).
import { h, replace, when } from '../common/dom.js';
import { t, L } from './strings.js';
import { meGet, mePost, meDel } from './session.js';
import { field, errorBox, noticeBox, showError, clearError, notice, busy, pill } from './ui.js';

const RELATIONS = ['child', 'grandchild', 'parent', 'grandparent', 'spouse', 'other'];
const STATE_COLOR = { active: 'green', pending: 'yellow', declined: 'red', ended: 'grey', removed: 'grey' };

export function relativesView({ go }) {
	let deps = null;
	let requests = null;
	const err = errorBox('rel-error');
	const note = noticeBox('rel-notice');
	const list = h('div', { id: 'rel-list' }, h('p', { class: 'muted' }, L('loading')));
	const reqBox = h('div', { id: 'rel-requests' });

	// The add form.
	const relation = h('select', { id: 'rel-relation', name: 'relation' },
		RELATIONS.map((r) => h('option', { value: r }, L(`relation.${r}`))));
	const addErr = errorBox('rel-add-error');
	const submit = h('button', { type: 'submit', id: 'rel-submit' }, L('rel.submit'));
	const form = h('form', { id: 'rel-form', novalidate: true, class: 'rel-form' },
		field('rel.name', h('input', { id: 'rel-name', autocomplete: 'off', maxlength: '64' })),
		field('rel.id', h('input', { id: 'rel-id', autocomplete: 'off', maxlength: '18', autocapitalize: 'characters' })),
		field('rel.relation', relation),
		addErr,
		submit);
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		clearError(addErr, form);
		note.hidden = true;
		await busy(submit, null, async () => {
			try {
				const d = await mePost('/v1/me/dependents', {
					name: form.querySelector('#rel-name').value.trim(),
					id_number: form.querySelector('#rel-id').value.trim().toUpperCase(),
					relation: relation.value,
				});
				form.reset();
				notice(note, d.state === 'active' ? 'rel.added' : 'rel.addedPending', { name: d.name });
				await load();
			} catch (e) {
				showError(addErr, e, form, { name: 'rel-name', id_number: 'rel-id', relation: 'rel-relation' }, { conflict: 'err.dep.conflict' });
			}
		});
	});

	function depItem(d) {
		const remove = h('button', { type: 'button', class: 'secondary small rel-remove' }, t('rel.remove'));
		let armed = false;
		// Two clicks to remove (no window.confirm: it blocks the page); the second within a few seconds.
		remove.addEventListener('click', async () => {
			if (!armed) {
				armed = true;
				replace(remove, t('rel.removeConfirm'));
				remove.classList.add('danger');
				setTimeout(() => {
					if (!remove.isConnected) return;
					armed = false;
					replace(remove, t('rel.remove'));
					remove.classList.remove('danger');
				}, 5000);
				return;
			}
			await busy(remove, null, async () => {
				try {
					await meDel(`/v1/me/dependents/${encodeURIComponent(d.dependent_id)}`);
					notice(note, 'rel.removed');
					await load();
				} catch (e) {
					showError(err, e);
				}
			});
		});
		return h('li', { class: 'rel-item', dataset: { dependentId: String(d.dependent_id), state: d.state } },
			h('div', { class: 'item-main' },
				h('div', { class: 'item-title' }, h('span', { class: 'rel-name' }, d.name), ' ',
					h('span', { class: 'muted' }, t.or(`relation.${d.relation}`, d.relation))),
				h('div', { class: 'muted' }, d.id_number),
				d.minor && d.ends_at ? h('div', { class: 'muted' }, t('rel.minorUntil', { t: when(d.ends_at).slice(0, 10) })) : null,
				h('div', null, pill(STATE_COLOR[d.state] || 'grey', t.or(`link.${d.state}`, d.state)))),
			h('div', { class: 'item-actions' },
				d.state === 'active'
					? h('button', { type: 'button', class: 'small rel-show', onclick: () => go('code', { target: { id: d.dependent_id, name: d.name } }) }, t('rel.show'))
					: null,
				d.state === 'pending' || d.state === 'active' ? remove : null));
	}

	function reqItem(r) {
		const answer = (verb) => async (ev) => {
			await busy(ev.currentTarget, null, async () => {
				try {
					await mePost(`/v1/me/guardian-requests/${encodeURIComponent(r.link_id)}/${verb}`);
					notice(note, verb === 'accept' ? 'rel.accepted' : 'rel.declined');
					await load();
				} catch (e) {
					// 409: answered already (here or on another device).
					showError(err, e, null, {}, { 409: 'err.req.answered' });
				}
			});
		};
		const g = r.guardian || {};
		return h('li', { class: 'req-item', dataset: { linkId: String(r.link_id) } },
			h('div', { class: 'item-main' },
				h('div', null, t('rel.requestFrom', { name: g.name || '', id: g.id_number || '', relation: t.or(`relation.${r.relation}`, r.relation) })),
				h('div', { class: 'muted' }, when(r.created_at))),
			h('div', { class: 'item-actions' },
				h('button', { type: 'button', class: 'small req-accept', onclick: answer('accept') }, t('rel.accept')),
				h('button', { type: 'button', class: 'small secondary req-decline', onclick: answer('decline') }, t('rel.decline'))));
	}

	function render() {
		if (deps) {
			replace(list, deps.length ? h('ul', { class: 'list' }, deps.map(depItem)) : h('p', { class: 'muted empty' }, t('rel.none')));
		}
		if (requests && requests.length) {
			replace(reqBox, h('section', { class: 'card', id: 'rel-requests-card' },
				h('h2', null, t('rel.requests')),
				h('p', { class: 'muted' }, t('rel.requestsLead')),
				h('ul', { class: 'list' }, requests.map(reqItem))));
		} else replace(reqBox);
	}

	async function load() {
		err.hidden = true;
		try {
			const [a, b] = await Promise.all([meGet('/v1/me/dependents'), meGet('/v1/me/guardian-requests')]);
			deps = a.dependents || [];
			requests = b.requests || [];
			render();
		} catch (e) {
			showError(err, e);
		}
	}
	load();

	const el = h('div', { id: 'relatives-view' },
		reqBox,
		h('section', { class: 'card' },
			h('h2', null, L('rel.title')),
			h('p', { class: 'muted' }, L('rel.lead')),
			note,
			err,
			list),
		h('section', { class: 'card' }, h('h2', null, L('rel.add')), form));
	return { el, relabel: render, refresh: load };
}
