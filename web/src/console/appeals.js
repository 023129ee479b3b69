// appeals: the handler's work (申诉处理). The queue, ordered by due time, filtered by state and paged by key
// ("next"), with the queue's figures; and one appeal's page: the person, what they wrote, the checks, the
// timeline, and the workflow buttons in order (claim, the two checks, decide, close), each enabled only when
// the appeal's state and its handler allow it; the server refuses the rest (409/403) and the page says so.
import { h, replace } from '../common/dom.js';
import { t } from './strings.js';
import { api, staff } from './session.js';
import { go } from './nav.js';
import { messageBox, table, field, when, confirmDialog, colorPill, colorWord, busy, pager } from './ui.js';

const STATES = ['submitted', 'assigned', 'checking', 'upheld', 'rejected', 'closed'];
let stateFilter = ''; // kept while the console is open, so Back returns to the same queue
let pageSize = '50';

const statePill = (s) => h('span', { class: `state state-${s}`, 'data-state': s }, t.or(`state_${s}`, s));
const actorText = (a) => (a ? t.or(`actor_${a.kind}`, `${a.kind} #${a.id}`, { id: a.id }) : '');

function duration(seconds) {
	if (seconds === null || seconds === undefined) return '—';
	const m = Math.round(seconds / 60);
	return m < 120 ? `${m} min` : `${(m / 60).toFixed(1)} h`;
}

export async function appeals(main) {
	const box = messageBox('appeals-error');
	const stats = h('div', { id: 'appeal-stats', class: 'bigs' });
	const list = h('div', { id: 'appeal-list' });
	const more = h('button', { id: 'appeal-more', class: 'secondary', type: 'button', hidden: true }, t('more'));
	const select = h('select', { onchange: () => { stateFilter = select.value; load(); } },
		h('option', { value: '' }, t('ap_all')),
		STATES.map((s) => h('option', { value: s }, t(`state_${s}`))));
	select.value = stateFilter;
	const size = h('select', { onchange: () => { pageSize = size.value; load(); } }, ['20', '50', '100', '200'].map((n) => h('option', { value: n }, n)));
	size.value = pageSize;

	replace(main,
		h('div', { class: 'row' }, h('h1', null, t('ap_title')), h('span', { class: 'spacer' }),
			h('button', { id: 'appeal-refresh', class: 'secondary', type: 'button', onclick: () => load() }, t('refresh'))),
		box, stats,
		h('div', { class: 'card' },
			h('div', { class: 'filters row2' }, field('appeal-filter-state', t('ap_filter_state'), select), field('appeal-page-size', t('ap_page_size'), size)),
			list, more));

	function render(rows) {
		replace(list, table(
			[t('ap_id'), t('ap_state'), t('ap_channel'), t('ap_filed'), t('ap_due'), t('ap_handler'), ''],
			rows.map((a) => [
				`#${a.appeal_id}`,
				statePill(a.state),
				t.or(`channel_${a.channel}`, a.channel),
				when(a.filed_at),
				h('span', { class: a.overdue ? 'overdue' : null }, when(a.due_at), a.overdue ? h('span', { class: 'pill red' }, t('ap_overdue')) : null),
				a.handler_id ? actorText({ kind: 'staff', id: a.handler_id }) : '—',
				h('button', { class: 'link', type: 'button', onclick: (ev) => { ev.stopPropagation(); go('appeals', a.appeal_id); } }, t('ap_open')),
			]),
			{
				empty: t('ap_empty'),
				rowProps: (i) => ({
					class: ['appeal-row', rows[i].overdue ? 'is-overdue' : null],
					'data-appeal-id': rows[i].appeal_id, 'data-state': rows[i].state,
					onclick: () => go('appeals', rows[i].appeal_id),
				}),
			}));
	}

	// By due time, pageSize at a time, the next page after the key of the last shown (after).
	const pages = pager({
		more, box, render,
		async fetchPage(after) {
			const q = new URLSearchParams({ limit: pageSize });
			if (stateFilter) q.set('state', stateFilter);
			if (after) q.set('after', after);
			const d = await api('GET', `/v1/staff/appeals?${q}`);
			return [d.appeals, d.next];
		},
	});

	async function load() {
		box.clear();
		try {
			const [s] = await Promise.all([api('GET', '/v1/staff/appeals/stats'), pages.first()]);
			replace(stats,
				h('div', { class: 'card big' }, h('div', { class: 'big-number', id: 'appeal-stats-open' }, String(s.open)), h('div', { class: 'muted' }, t('ap_stats_open'))),
				h('div', { class: ['card', 'big', s.overdue > 0 ? 'warn' : null] }, h('div', { class: 'big-number', id: 'appeal-stats-overdue' }, String(s.overdue)), h('div', { class: 'muted' }, t('ap_stats_overdue'))),
				h('div', { class: 'card big' }, h('div', { class: 'big-number', id: 'appeal-stats-decided' }, String(s.decided)), h('div', { class: 'muted' }, t('ap_stats_decided'))),
				h('div', { class: 'card big' }, h('div', { class: 'big-number' }, duration(s.median_decision_seconds)), h('div', { class: 'muted' }, t('ap_stats_median'))));
		} catch (e) {
			box.error(e);
		}
	}
	await load();
}

// One appeal: everything the handler needs, and the next step.
export async function appealPage(main, id) {
	const box = messageBox('appeal-error');
	const body = h('div', { id: 'appeal', 'data-appeal-id': id }, h('p', { class: 'muted' }, t('loading')));
	replace(main,
		h('div', { class: 'row' },
			h('button', { id: 'appeal-back', class: 'secondary', type: 'button', onclick: () => go('appeals') }, t('back')),
			h('h1', null, t('ap_detail_title', { id }))),
		box, body);

	let a;
	try {
		a = await api('GET', `/v1/staff/appeals/${id}`);
	} catch (e) {
		replace(body);
		box.error(e);
		return;
	}
	render(a);

	// Runs one step, then shows the appeal as the server has it now, also after a refusal: it may have moved (another
	// handler claimed it, say), and the page then shows why (the error) and how it stands (state, handler, buttons).
	async function step(button, fn, done) {
		await busy(button, box, async () => {
			let failed = null;
			try {
				await fn();
			} catch (e) {
				failed = e;
			}
			// Whatever the step's answer: the box says the step's error first, else the re-read's.
			try {
				render(await api('GET', `/v1/staff/appeals/${id}`));
			} catch (e) {
				failed = failed || e;
			}
			if (failed) throw failed;
			box.notice(done || t('ap_done'));
		});
	}

	function render(a) {
		const me = staff();
		const mine = a.handler_id === me.staff_id;
		const open = ['assigned', 'checking'].includes(a.state);
		const checks = a.checks || {};
		const canClaim = a.state === 'submitted';
		const canCheck = mine && open;
		const canDecide = mine && a.state === 'checking' && !!checks.data && !!checks.grassroots;
		const canClose = mine && (a.state === 'upheld' || a.state === 'rejected');

		const claim = h('button', { id: 'appeal-claim', type: 'button', disabled: !canClaim }, t('ap_claim'));
		claim.addEventListener('click', () => step(claim, () => api('POST', `/v1/staff/appeals/${id}/claim`)));

		const checkForm = (kind) => {
			const note = h('textarea', { maxlength: '2000', rows: '3', disabled: !canCheck });
			note.value = checks[kind] || '';
			const btn = h('button', { id: `appeal-check-${kind}`, type: 'button', disabled: !canCheck }, t(`ap_record_${kind}`));
			btn.addEventListener('click', () => {
				if (!note.value.trim()) {
					note.focus();
					return;
				}
				step(btn, () => api('POST', `/v1/staff/appeals/${id}/checks`, { kind, result: note.value }));
			});
			return h('div', { class: 'check', 'data-kind': kind, 'data-recorded': checks[kind] ? 'true' : 'false' },
				h('h3', null, t(`ap_check_${kind}`), ' ', checks[kind] ? h('span', { class: 'pill green' }, '✓') : h('span', { class: 'muted' }, t('ap_not_recorded'))),
				field(`check-${kind}-note`, t(`ap_check_note_${kind}`), note),
				h('div', { class: 'row' }, btn));
		};

		const outcome = h('select', { disabled: !canDecide },
			h('option', { value: 'upheld' }, t('ap_upheld')), h('option', { value: 'rejected' }, t('ap_rejected')));
		const color = h('select', { disabled: !canDecide }, ['green', 'yellow', 'red'].map((c) => h('option', { value: c }, colorWord(c))));
		const days = h('input', { type: 'number', min: '1', max: '90', placeholder: '14', disabled: !canDecide });
		const reason = h('textarea', { maxlength: '400', rows: '3', disabled: !canDecide });
		const decide = h('button', { id: 'appeal-decide', type: 'button', disabled: !canDecide }, t('ap_decide'));
		const colorFields = h('div', { class: 'row2' },
			field('appeal-decision-color', t('ap_color'), color), field('appeal-decision-days', t('ap_until_days'), days));
		outcome.addEventListener('change', () => {
			color.disabled = days.disabled = !canDecide || outcome.value !== 'upheld';
			colorFields.classList.toggle('off', outcome.value !== 'upheld');
		});
		decide.addEventListener('click', async () => {
			if (!reason.value.trim()) {
				reason.focus();
				return;
			}
			const body = { decision: outcome.value, reason: reason.value };
			if (outcome.value === 'upheld') {
				body.color = color.value;
				if (days.value) body.until = new Date(Date.now() + Number(days.value) * 86400000).toISOString().replace(/\.\d{3}Z$/, 'Z');
			}
			if (!(await confirmDialog(t('ap_confirm_decide')))) return;
			step(decide, () => api('POST', `/v1/staff/appeals/${id}/decision`, body));
		});

		const close = h('button', { id: 'appeal-close', type: 'button', disabled: !canClose }, t('ap_close'));
		close.addEventListener('click', async () => {
			if (!(await confirmDialog(t('ap_confirm_close')))) return;
			step(close, () => api('POST', `/v1/staff/appeals/${id}/close`));
		});

		const d = a.decision;
		replace(body,
			h('div', { class: 'row' },
				h('span', { id: 'appeal-state', 'data-state': a.state, class: `state state-${a.state}` }, t.or(`state_${a.state}`, a.state)),
				a.handler_id ? h('span', { class: 'muted' }, t('ap_handler'), ': ', actorText({ kind: 'staff', id: a.handler_id })) : null,
				a.handler_id && !mine ? h('span', { class: 'pill yellow' }, t('ap_not_mine')) : null),
			h('div', { class: 'grid2' },
				h('div', { class: 'card' },
					h('h2', null, t('ap_person')),
					h('dl', { class: 'facts' },
						h('dt', null, t('ap_name')), h('dd', { id: 'appeal-person-name' }, a.person ? a.person.name : '—'),
						h('dt', null, t('ap_id_number')), h('dd', { class: 'mono' }, a.person ? a.person.id_number : '—'),
						h('dt', null, t('ap_channel')), h('dd', null, t.or(`channel_${a.channel}`, a.channel)),
						h('dt', null, t('ap_filed_by')), h('dd', null, actorText(a.filed_by)),
						h('dt', null, t('ap_filed')), h('dd', null, when(a.filed_at)),
						h('dt', null, t('ap_due')), h('dd', null, when(a.due_at))),
					h('h3', null, t('ap_reason')), h('p', { id: 'appeal-reason', class: 'prewrap' }, a.reason || ''),
					h('h3', null, t('ap_details')), h('p', { id: 'appeal-details', class: 'prewrap' }, a.details || '')),
				h('div', { class: 'card' },
					h('h2', null, t('ap_timeline')),
					h('ol', { id: 'appeal-timeline', class: 'timeline' }, (a.timeline || []).map((e) =>
						h('li', { 'data-action': e.action },
							h('span', { class: 'when' }, when(e.at, true)), ' ',
							h('strong', null, t.or(`action_${e.action}`, e.action)),
							e.kind ? ` (${e.kind === 'data' || e.kind === 'grassroots' ? t(`ap_check_${e.kind}`) : t.or(`state_${e.kind}`, e.kind)})` : '',
							' → ', t.or(`state_${e.state}`, e.state), ' · ', actorText(e.actor)))),
					d ? h('div', { id: 'appeal-decision', class: 'decision' },
						h('p', null, t('ap_decided', { d: t.or(`state_${d.decision}`, d.decision) }), ' ', d.color ? colorPill(d.color) : null,
							d.until ? h('span', { class: 'muted' }, ` → ${when(d.until)}`) : null),
						h('p', { class: 'prewrap' }, d.reason)) : null)),
			h('div', { class: 'card workflow' },
				h('h2', null, '1. ', t('ap_claim')),
				h('div', { class: 'row' }, claim),
				h('h2', null, '2. ', t('ap_checks')),
				h('div', { class: 'grid2' }, checkForm('data'), checkForm('grassroots')),
				h('h2', null, '3. ', t('ap_decision')),
				h('div', { class: 'row2' }, field('appeal-decision-outcome', t('ap_outcome'), outcome), h('div')),
				colorFields,
				field('appeal-decision-reason', t('ap_decision_reason'), reason),
				h('div', { class: 'row' }, decide),
				h('h2', null, '4. ', t('ap_close')),
				h('div', { class: 'row' }, close)));
	}
}
