// operator: the 12345 hotline's tools. File an appeal for a caller, tell a caller how their appeals stand
// (without what they wrote), and confirm a relative's link: an adult's when the adult consents on the call, a
// child's once the operator has seen the birth certificate or household register that names the applicant (which
// document, is recorded and audited). ID numbers and names go in request bodies only.
import { h, replace } from '../common/dom.js';
import { t } from './strings.js';
import { api } from './session.js';
import { messageBox, table, field, when, confirmDialog, colorPill, busy } from './ui.js';

const input = (props = {}) => h('input', { autocomplete: 'off', spellcheck: 'false', ...props });

function fileCard() {
	const box = messageBox('op-file-result');
	const idn = input({ maxlength: '18', class: 'mono' });
	const name = input({ maxlength: '64' });
	const reason = input({ maxlength: '200' });
	const details = h('textarea', { rows: '4', maxlength: '4000' });
	const submit = h('button', { id: 'op-file-submit', type: 'submit' }, t('op_file'));
	const form = h('form', { id: 'op-file', class: 'card', novalidate: true },
		h('h2', null, t('op_file_title')),
		h('div', { class: 'row2' }, field('op-file-id', t('op_id_number'), idn), field('op-file-name', t('op_name'), name)),
		field('op-file-reason', t('op_reason'), reason),
		field('op-file-details', t('op_details'), details),
		box, h('div', { class: 'row' }, submit));
	form.addEventListener('submit', (ev) => {
		ev.preventDefault();
		busy(submit, box, async () => {
			const d = await api('POST', '/v1/staff/appeals', { id_number: idn.value.trim(), name: name.value.trim(), reason: reason.value, details: details.value });
			box.notice(t('op_filed', { id: d.appeal_id, due: when(d.due_at) }));
			box.dataset.appealId = String(d.appeal_id);
			form.reset();
		});
	});
	return form;
}

function lookupCard() {
	const box = messageBox('op-lookup-error');
	const out = h('div', { id: 'op-lookup-result' });
	const idn = input({ maxlength: '18', class: 'mono' });
	const name = input({ maxlength: '64' });
	const submit = h('button', { id: 'op-lookup-submit', type: 'submit' }, t('op_lookup'));
	const form = h('form', { id: 'op-lookup', class: 'card', novalidate: true },
		h('h2', null, t('op_lookup_title')),
		h('div', { class: 'row2' }, field('op-lookup-id', t('op_id_number'), idn), field('op-lookup-name', t('op_name'), name)),
		box, h('div', { class: 'row' }, submit), out);
	form.addEventListener('submit', (ev) => {
		ev.preventDefault();
		replace(out);
		busy(submit, box, async () => {
			const d = await api('POST', '/v1/staff/appeals/lookup', { id_number: idn.value.trim(), name: name.value.trim() });
			replace(out, table([t('ap_id'), t('ap_state'), t('ap_channel'), t('ap_filed'), t('ap_due'), t('ap_decision')],
				d.appeals.map((a) => [`#${a.appeal_id}`, t.or(`state_${a.state}`, a.state), t.or(`channel_${a.channel}`, a.channel), when(a.filed_at), when(a.due_at),
					a.decision ? h('span', null, t.or(`state_${a.decision.decision}`, a.decision.decision), ' ', a.decision.color ? colorPill(a.decision.color) : null, ' ', a.decision.reason || '') : '—']),
				{ empty: t('ap_empty'), rowProps: (i) => ({ class: 'lookup-row', 'data-appeal-id': d.appeals[i].appeal_id }) }));
		});
	});
	return form;
}

function linkCard() {
	const box = messageBox('op-link-error');
	const out = h('div', { id: 'op-link-result' });
	const linkId = input({ type: 'number', min: '1' });
	const show = h('button', { id: 'op-link-show', type: 'submit', class: 'secondary' }, t('op_link_show'));
	const form = h('form', { id: 'op-link', class: 'card', novalidate: true },
		h('h2', null, t('op_link_title')),
		h('div', { class: 'row2' }, field('op-link-id', t('op_link_id'), linkId), h('div')),
		h('div', { class: 'row' }, show), box, out);
	const render = (l) => {
		const pending = l.state === 'pending';
		// A child's link is confirmed by a document, an adult's by their consent (the API refuses the other way).
		const doc = h('select', { id: 'op-link-document', disabled: !pending },
			['birth_certificate', 'household_register'].map((d) => h('option', { value: d }, t(`doc_${d}`))));
		const confirm = h('button', { id: 'op-link-confirm', type: 'button', disabled: !pending }, t(l.minor ? 'op_link_document_confirm' : 'op_link_confirm'));
		confirm.addEventListener('click', async () => {
			const question = l.minor ? t('op_link_document_q', { doc: t(`doc_${doc.value}`) }) : t('op_link_confirm_q');
			if (!(await confirmDialog(question))) return;
			busy(confirm, box, async () => {
				if (l.minor) await api('POST', `/v1/staff/dependents/${l.link_id}/document`, { document: doc.value });
				else await api('POST', `/v1/staff/dependents/${l.link_id}/confirm`);
				render(await api('GET', `/v1/staff/dependents/${l.link_id}`));
				box.notice(t('op_link_confirmed'));
			});
		});
		replace(out, h('dl', { class: 'facts' },
			h('dt', null, t('op_name')), h('dd', null, l.name),
			h('dt', null, t('op_id_number')), h('dd', { class: 'mono' }, l.id_number),
			h('dt', null, t('op_link_minor')), h('dd', { id: 'op-link-minor', 'data-minor': String(l.minor) }, t(l.minor ? 'op_link_is_minor' : 'op_link_is_adult')),
			h('dt', null, t('op_relation')), h('dd', null, t.or(`relation.${l.relation}`, l.relation)),
			h('dt', null, t('op_guardian')), h('dd', null, `#${l.guardian_id}`),
			h('dt', null, t('op_created')), h('dd', null, when(l.created_at)),
			h('dt', null, t('ap_state')), h('dd', { id: 'op-link-state', 'data-state': l.state }, t.or(`link_${l.state}`, l.state)),
			l.basis ? [h('dt', null, t('op_link_basis')), h('dd', { id: 'op-link-basis', 'data-basis': l.basis }, t.or(`basis_${l.basis}`, l.basis))] : null),
		l.minor && pending ? field('op-link-document', t('op_link_document'), doc) : null,
		h('div', { class: 'row' }, confirm));
	};
	form.addEventListener('submit', (ev) => {
		ev.preventDefault();
		replace(out);
		if (!/^\d+$/.test(linkId.value)) return linkId.focus();
		busy(show, box, async () => render(await api('GET', `/v1/staff/dependents/${linkId.value}`)));
	});
	return form;
}

export function operator(main) {
	replace(main, h('h1', null, t('nav_operator')), h('div', { class: 'grid2' }, h('div', null, fileCard()), h('div', null, lookupCard(), linkCard())));
}
