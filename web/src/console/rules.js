// rules: the administrator's tools. The rule set in force in an editor; "What if" shows who would move between
// colours (overall and by district) before anything changes; "Apply" (after a confirmation) puts it in force and
// starts a job that re-evaluates everyone on the server: its progress shows as a bar with counts, polled until it
// ends, then who changed colour (overall and by district), or why it stopped. A job still running when the section
// opens (another tab, a reload) shows the same way. A bad rule file shows its errors by line, and a click on one
// selects that line in the editor. Also: a new terminal (its secret shown once, with a copy button) and a colour
// set by hand.
import { h, replace } from '../common/dom.js';
import { t } from './strings.js';
import { api } from './session.js';
import { messageBox, table, field, when, confirmDialog, colorPill, colorWord, busy, fromLocalInput } from './ui.js';

let draft = null; // the text being edited, kept while the console is open (switching sections loses nothing)

// Selects line n (1-based) of the textarea and scrolls to it.
function selectLine(ta, n) {
	const lines = ta.value.split('\n');
	if (n < 1 || n > lines.length) return;
	const start = lines.slice(0, n - 1).reduce((a, l) => a + l.length + 1, 0);
	ta.focus();
	ta.setSelectionRange(start, start + lines[n - 1].length);
	const lh = parseFloat(getComputedStyle(ta).lineHeight) || 18;
	ta.scrollTop = Math.max(0, (n - 3) * lh);
}

const POLL_MS = 500; // between looks at a running job

const movesTable = (changes, id) => table([t('ru_from'), t('ru_to'), t('ru_count')],
	changes.map((c) => [colorPill(c.from), colorPill(c.to), String(c.count)]),
	{ rowProps: (i) => ({ class: 'move', 'data-from': changes[i].from, 'data-to': changes[i].to, 'data-count': changes[i].count, id: i === 0 && id ? id : null }) });

// The moves of a what-if or of a job: overall, then by district (firstId names the first overall row).
const moves = (d, firstId) => [
	h('h3', null, t('ru_overall')), movesTable(d.changes, firstId),
	h('h3', null, t('ru_by_district')),
	h('div', { class: 'districts' }, d.by_district.map((x) => h('div', { class: 'district', 'data-division': x.division },
		h('h4', null, x.division === 'other' ? t('ru_other') : `${x.name || ''} ${x.division}`), movesTable(x.changes)))),
];

// A rule job as it is now: a progress bar with counts while it runs, then what it changed, or why it stopped.
function jobView(j) {
	const total = j.people_total;
	const attrs = { id: 'rules-job', class: `job ${j.state}`, 'data-state': j.state, 'data-job-id': j.job_id, 'data-done': j.people_done, 'data-total': total ?? '', 'data-changed': j.changed };
	const title = h('h3', null, t('ru_job_title', { id: j.job_id, v: j.version }));
	if (j.state === 'running') {
		const bar = h('progress', { id: 'rules-job-progress', max: String(total || 1) });
		if (total !== null) bar.value = Math.min(j.people_done, total); // no value: indeterminate, while counting
		return h('div', attrs, title, bar, h('p', { id: 'rules-job-counts', role: 'status' },
			total === null ? t('ru_job_counting') : t('ru_job_running', { d: j.people_done, n: total, c: j.changed })));
	}
	if (j.state === 'failed')
		return h('div', attrs, title, h('p', { id: 'rules-job-counts', class: 'error' }, t('ru_job_failed', { v: j.version, d: j.people_done, e: j.error })));
	return h('div', attrs, title,
		h('p', { id: 'rules-job-counts', class: 'notice' }, t('ru_applied', { v: j.version, n: j.people_done, c: j.changed })),
		j.changes.length ? moves(j, 'job-first-move') : h('p', { class: 'muted' }, t('ru_no_change_done')));
}

function rulesCard() {
	const box = messageBox('rules-error');
	const version = h('p', { id: 'rules-version', class: 'muted' });
	const errors = h('div', { id: 'rules-errors' });
	const result = h('div', { id: 'rules-whatif' });
	const progress = h('div', { id: 'rules-job-box' });
	const ta = h('textarea', { class: 'code', spellcheck: 'false', rows: '24', wrap: 'off', autocapitalize: 'off' });
	
	// A what-if answers for the text it was run on: once the text changes, its result is shown faded.
	ta.addEventListener('input', () => {
		draft = ta.value;
		result.classList.add('stale');
	});
	const whatif = h('button', { id: 'rules-whatif-run', type: 'button', class: 'secondary' }, t('ru_whatif'));
	const apply = h('button', { id: 'rules-apply', type: 'button', class: 'danger' }, t('ru_apply'));

	// The errors of a refused file, each a link to its line.
	const showErrors = (e) => {
		if (!(e.status === 400 && e.field === 'rules' && Array.isArray(e.errors))) return false;
		replace(errors, h('div', { class: 'error' },
			h('p', null, t('ru_errors', { n: e.errors.length })),
			h('ul', { class: 'rule-errors' }, e.errors.map((x) => h('li', { 'data-line': x.line },
				x.line > 0 ? h('button', { type: 'button', class: 'link', onclick: () => selectLine(ta, x.line) }, t('ru_line', { n: x.line })) : t('ru_whole'),
				': ', x.message)))));
		return true;
	};
	const run = (button, fn) => {
		replace(errors);
		return busy(button, null, fn).catch((e) => {
			if (!showErrors(e)) box.error(e);
		});
	};

	whatif.addEventListener('click', () => {
		replace(result);
		result.classList.remove('stale');
		box.clear();
		run(whatif, async () => {
			const d = await api('POST', '/v1/staff/rules/diff', { rules: ta.value });
			replace(result,
				h('p', { id: 'whatif-people' }, t('ru_people', { n: d.people, v: d.version })),
				d.changes.length ? moves(d, 'whatif-first-move') : h('p', { class: 'notice', id: 'whatif-none' }, t('ru_no_change')));
		});
	});

	// Shows job j and, while it runs, looks again every POLL_MS (until it ends or the section is left); Apply waits.
	let watching = null;
	async function watch(j) {
		const mine = watching = j.job_id;
		for (;;) {
			replace(progress, jobView(j));
			apply.disabled = j.state === 'running';
			if (j.state !== 'running') break;
			await new Promise((r) => setTimeout(r, POLL_MS));
			if (!card.isConnected || watching !== mine) return;
			try {
				j = await api('GET', `/v1/staff/rules/jobs/${j.job_id}`);
			} catch (e) {
				apply.disabled = false;
				box.error(e);
				return;
			}
		}
		if (j.state === 'done') await load();
	}
	apply.addEventListener('click', async () => {
		replace(result);
		box.clear();
		if (!(await confirmDialog(t('ru_confirm_apply')))) return;
		let job = null;
		await run(apply, async () => {
			job = await api('POST', '/v1/staff/rules/apply', { rules: ta.value });
			draft = null;
		});
		if (!job) return;
		load(); // in force from now on, while the job walks
		watch(job);
	});

	async function load() {
		try {
			const d = await api('GET', '/v1/staff/rules');
			replace(version, t('ru_version', { v: d.version }));
			version.dataset.version = String(d.version);
			if (draft === null) ta.value = d.rules;
		} catch (e) {
			box.error(e.status === 404 ? { message: t('ru_unavailable') } : e);
		}
		if (draft !== null) ta.value = draft;
	}
	// A job still running (or the last one, if it failed) is shown as the section opens.
	async function latest() {
		try {
			const j = await api('GET', '/v1/staff/rules/jobs/latest');
			if (j.state !== 'done') watch(j);
		} catch (e) {
			if (e.status !== 404) box.error(e); // 404: no rule set has been applied yet
		}
	}
	const card = h('div', { class: 'card', id: 'rules-card' },
		h('h2', null, t('ru_title')), version,
		field('rules-text', t('ru_editor'), ta),
		h('div', { class: 'row' }, whatif, apply), box, progress, errors, result);
	load();
	latest();
	return card;
}

function terminalCard() {
	const box = messageBox('terminal-error');
	const out = h('div', { id: 'terminal-created' });
	const org = h('input', { maxlength: '128' });
	const place = h('input', { maxlength: '128' });
	const scene = h('select', null, ['checkpoint', 'community', 'venue', 'hospital', 'transit', 'pool'].map((s) => h('option', { value: s }, t(`scene.${s}`))));
	const division = h('input', { maxlength: '6', inputmode: 'numeric', class: 'mono' });
	const submit = h('button', { id: 'terminal-create', type: 'submit' }, t('tm_create'));
	const form = h('form', { id: 'terminal-form', class: 'card', novalidate: true },
		h('h2', null, t('tm_title')),
		h('div', { class: 'row2' }, field('terminal-org', t('tm_org'), org), field('terminal-place', t('tm_place'), place)),
		h('div', { class: 'row2' }, field('terminal-scene', t('tm_scene'), scene), field('terminal-division', t('tm_division'), division)),
		box, h('div', { class: 'row' }, submit), out);
	form.addEventListener('submit', (ev) => {
		ev.preventDefault();
		replace(out);
		busy(submit, box, async () => {
			const body = { org: org.value.trim(), place: place.value.trim(), scene: scene.value };
			if (division.value.trim()) body.division = division.value.trim();
			const d = await api('POST', '/v1/staff/terminals', body);
			// The secret is shown here once and kept nowhere: it leaves with this card.
			const secret = h('code', { id: 'terminal-secret', class: 'secret', 'data-terminal-id': d.terminal_id }, d.secret);
			const said = h('span', { class: 'muted', role: 'status' });
			const copy = h('button', { id: 'terminal-copy', type: 'button', class: 'secondary' }, t('tm_copy'));
			copy.addEventListener('click', async () => {
				try {
					await navigator.clipboard.writeText(d.secret);
					replace(said, t('tm_copied'));
				} catch {
					getSelection().selectAllChildren(secret);
					replace(said, t('tm_copy_failed'));
				}
			});
			replace(out, h('div', { class: 'notice' }, h('p', null, t('tm_created', { id: d.terminal_id })), secret, h('div', { class: 'row' }, copy, said)));
		});
	});
	return form;
}

function statusCard() {
	const box = messageBox('status-result');
	const idn = h('input', { maxlength: '18', autocomplete: 'off', class: 'mono' });
	const color = h('select', null, ['red', 'yellow', 'green'].map((c) => h('option', { value: c }, colorWord(c))));
	const reason = h('input', { maxlength: '500' });
	const until = h('input', { type: 'datetime-local' });
	const submit = h('button', { id: 'status-set', type: 'submit' }, t('st_set'));
	const form = h('form', { id: 'status-form', class: 'card', novalidate: true },
		h('h2', null, t('st_title')),
		h('div', { class: 'row2' }, field('status-id', t('st_id_number'), idn), field('status-color', t('st_color'), color)),
		field('status-reason', t('st_reason'), reason),
		field('status-until', t('st_until'), until),
		box, h('div', { class: 'row' }, submit));
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		box.clear();
		if (!(await confirmDialog(t('st_confirm', { c: colorWord(color.value) })))) return;
		busy(submit, box, async () => {
			const body = { id_number: idn.value.trim(), color: color.value, reason: reason.value };
			const u = fromLocalInput(until.value);
			if (u) body.until = u;
			const d = await api('POST', '/v1/staff/status', body);
			box.notice(t('st_done', { c: colorWord(d.color), until: when(d.until) }));
			idn.value = '';
			reason.value = '';
		});
	});
	return form;
}

export function rules(main) {
	replace(main, h('h1', null, t('nav_rules')), rulesCard(), h('div', { class: 'grid2' }, terminalCard(), statusCard()));
}
