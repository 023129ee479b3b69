// relatives: the people whose codes I may show (GET/POST/DELETE /v1/me/dependents: a child the population
// register names me a guardian of is linked at once, another child once the 12345 hotline has checked a document,
// an adult once they agree), switching the big code to one of them, the requests of others to show mine
// (GET /v1/me/guardian-requests, accept or decline), and who may show mine on the consent I gave
// (GET /v1/me/guardians, withdrawn with DELETE /v1/me/guardians/{id}).
import { h, replace, when } from '../common/dom.js';
import { t, L } from './strings.js';
import { meGet, mePost, meDel } from './session.js';
import { field, errorBox, noticeBox, showError, clearError, notice, busy, pill } from './ui.js';

const RELATIONS = ['child', 'grandchild', 'parent', 'grandparent', 'spouse', 'other'];
const STATE_COLOR = { active: 'green', pending: 'yellow', declined: 'red', ended: 'grey', removed: 'grey', withdrawn: 'red' };

// A button that acts on its second click within a few seconds (no window.confirm: it blocks the page); the first
// click only arms it, saying what the second will do.
function twoClick(cls, labelKey, confirmKey, act) {
	const b = h('button', { type: 'button', class: `secondary small ${cls}` }, t(labelKey));
	let armed = false;
	b.addEventListener('click', async () => {
		if (!armed) {
			armed = true;
			replace(b, t(confirmKey));
			b.classList.add('danger');
			setTimeout(() => {
				if (!b.isConnected) return;
				armed = false;
				replace(b, t(labelKey));
				b.classList.remove('danger');
			}, 5000);
			return;
		}
		await busy(b, null, act);
	});
	return b;
}

export function relativesView({ go }) {
	let deps = null;
	let requests = null;
	let guardians = null;
	const err = errorBox('rel-error');
	const note = noticeBox('rel-notice');
	const list = h('div', { id: 'rel-list' }, h('p', { class: 'muted' }, L('loading')));
	const reqBox = h('div', { id: 'rel-requests' });
	const guardBox = h('div', { id: 'rel-guardians' });

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
				notice(note, d.state === 'active' ? 'rel.added' : d.minor ? 'rel.addedPendingDoc' : 'rel.addedPending', { name: d.name, id: d.dependent_id });
				await load();
			} catch (e) {
				showError(addErr, e, form, { name: 'rel-name', id_number: 'rel-id', relation: 'rel-relation' }, { conflict: 'err.dep.conflict' });
			}
		});
	});

	// Ends a link (DELETE path), shows the lists again and says so; a refusal is said as overrides say (after the
	// lists are read again, which clears the error box, so that it stays on screen).
	const endLink = (path, noticeKey, overrides) => async () => {
		try {
			await meDel(path);
		} catch (e) {
			await load();
			return showError(err, e, null, {}, overrides);
		}
		notice(note, noticeKey);
		await load();
	};

	function depItem(d) {
		const remove = twoClick('rel-remove', 'rel.remove', 'rel.removeConfirm',
			endLink(`/v1/me/dependents/${encodeURIComponent(d.dependent_id)}`, 'rel.removed', {}));
		// A child's pending link waits for the hotline, who needs its number; an adult's waits for the adult.
		const waitsForDocument = d.state === 'pending' && d.minor;
		return h('li', { class: 'rel-item', dataset: { dependentId: String(d.dependent_id), state: d.state } },
			h('div', { class: 'item-main' },
				h('div', { class: 'item-title' }, h('span', { class: 'rel-name' }, d.name), ' ',
					h('span', { class: 'muted' }, t.or(`relation.${d.relation}`, d.relation))),
				h('div', { class: 'muted' }, d.id_number),
				d.minor && d.ends_at ? h('div', { class: 'muted' }, t('rel.minorUntil', { t: when(d.ends_at).slice(0, 10) })) : null,
				waitsForDocument ? h('div', { class: 'muted rel-doc-note' }, t('rel.pendingDoc', { id: d.dependent_id })) : null,
				h('div', null, pill(STATE_COLOR[d.state] || 'grey', waitsForDocument ? t('link.pendingDoc') : t.or(`link.${d.state}`, d.state)))),
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

	// Someone who may show my code, on the consent I gave: I can take it back.
	function guardianItem(x) {
		const g = x.guardian || {};
		// 409: withdrawn already, or ended meanwhile (here or on another device).
		const withdraw = twoClick('guardian-withdraw', 'rel.withdraw', 'rel.withdrawConfirm',
			endLink(`/v1/me/guardians/${encodeURIComponent(x.link_id)}`, 'rel.withdrawn', { 409: 'err.guardian.gone' }));
		return h('li', { class: 'guardian-item', dataset: { linkId: String(x.link_id) } },
			h('div', { class: 'item-main' },
				h('div', { class: 'guardian-name' }, t('rel.guardianOf', { name: g.name || '', id: g.id_number || '', relation: t.or(`relation.${x.relation}`, x.relation) })),
				h('div', { class: 'muted' }, t('rel.since', { t: when(x.since) }))),
			h('div', { class: 'item-actions' }, withdraw));
	}

	function render() {
		if (deps) {
			replace(list, deps.length ? h('ul', { class: 'list' }, deps.map(depItem)) : h('p', { class: 'muted empty' }, t('rel.none')));
		}
		// The links that name me: a card each for the requests and for those who may show my code, when there are any.
		const card = (box, id, key, items, item) => (items && items.length
			? replace(box, h('section', { class: 'card', id }, h('h2', null, t(key)), h('p', { class: 'muted' }, t(`${key}Lead`)),
				h('ul', { class: 'list' }, items.map(item))))
			: replace(box));
		card(reqBox, 'rel-requests-card', 'rel.requests', requests, reqItem);
		card(guardBox, 'rel-guardians-card', 'rel.guardians', guardians, guardianItem);
	}

	async function load() {
		err.hidden = true;
		try {
			const [a, b, c] = await Promise.all([meGet('/v1/me/dependents'), meGet('/v1/me/guardian-requests'), meGet('/v1/me/guardians')]);
			deps = a.dependents || [];
			requests = b.requests || [];
			guardians = c.guardians || [];
			render();
		} catch (e) {
			showError(err, e);
		}
	}
	load();

	const el = h('div', { id: 'relatives-view' },
		reqBox,
		guardBox,
		h('section', { class: 'card' },
			h('h2', null, L('rel.title')),
			h('p', { class: 'muted' }, L('rel.lead')),
			note,
			err,
			list),
		h('section', { class: 'card' }, h('h2', null, L('rel.add')), form));
	return { el, relabel: render, refresh: load };
}
