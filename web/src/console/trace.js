// trace: companion tracing (时空伴随) for the epidemiologist: who was scanned where a case was scanned, near the
// same time. The case's ID number goes in the request body only; the answer's names and numbers come masked.
// Recording the companions as close contacts changes their colours, so it asks first.
import { h, replace } from '../common/dom.js';
import { t } from './strings.js';
import { api } from './session.js';
import { messageBox, table, field, when, confirmDialog, busy, toLocalInput, fromLocalInput } from './ui.js';

export function trace(main) {
	const box = messageBox('trace-error');
	const out = h('div', { id: 'trace-result' });
	const idn = h('input', { maxlength: '18', autocomplete: 'off', spellcheck: 'false', class: 'mono' });
	const now = new Date();
	const from = h('input', { type: 'datetime-local', value: toLocalInput(new Date(now.getTime() - 14 * 86400000)) });
	const to = h('input', { type: 'datetime-local', value: toLocalInput(new Date(now.getTime() + 60000)) });
	const win = h('input', { type: 'number', min: '1', max: '240', value: '30' });
	const emit = h('input', { type: 'checkbox', id: 'trace-emit' });
	const submit = h('button', { id: 'trace-run', type: 'submit' }, t('tr_run'));
	const form = h('form', { id: 'trace-form', class: 'card', novalidate: true },
		h('div', { class: 'row4' },
			field('trace-id', t('tr_id_number'), idn),
			field('trace-from', t('tr_from'), from),
			field('trace-to', t('tr_to'), to),
			field('trace-window', t('tr_window'), win)),
		h('label', { class: 'check-label', for: 'trace-emit' }, emit, ' ', t('tr_emit')),
		box, h('div', { class: 'row' }, submit));
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		box.clear();
		replace(out);
		if (emit.checked && !(await confirmDialog(t('tr_confirm_emit')))) return;
		busy(submit, box, async () => {
			const body = { id_number: idn.value.trim(), from: fromLocalInput(from.value), to: fromLocalInput(to.value), window_minutes: Number(win.value) || 30, emit: emit.checked };
			render(await api('POST', '/v1/staff/trace', body));
		});
	});

	function render(d) {
		replace(out,
			h('div', { class: 'card' },
				h('p', { id: 'trace-case' }, t('tr_case', { name: d.case.name, id: d.case.id_number, n: d.case.scans })),
				h('p', { id: 'trace-count', 'data-count': d.count }, t('tr_count', { n: d.count }), d.truncated ? ` ${t('tr_truncated')}` : ''),
				d.emitted !== undefined && d.emitted !== null ? h('p', { class: 'notice', id: 'trace-emitted' }, t('tr_emitted', { n: d.emitted, d: d.duplicates || 0 })) : null,
				h('h2', null, t('tr_places')),
				table([t('tr_place'), t('tr_case_scans'), t('tr_first'), t('tr_last'), t('tr_companions')],
					d.places.map((p) => [p.place, String(p.case_scans), when(p.first_at, true), when(p.last_at, true), String(p.companions)]),
					{ empty: t('none'), rowProps: () => ({ class: 'trace-place' }) }),
				h('h2', null, t('tr_companions')),
				table([t('tr_name'), t('tr_id'), t('tr_division'), t('tr_place'), t('tr_closest'), t('tr_gap'), t('tr_scans')],
					d.companions.map((c) => [c.name, h('span', { class: 'mono' }, c.id_number), c.division, c.place, when(c.closest_at, true), String(c.gap_seconds), String(c.scans)]),
					{ empty: t('tr_none'), rowProps: () => ({ class: 'trace-companion' }) })));
	}

	replace(main, h('h1', null, t('tr_title')), form, out);
}
