// dashboard: what every member of staff sees first: scans per hour and per day, scan results by scene, colours
// by district (Chart.js), and open and overdue appeals as big numbers; the same figures as tables under each
// chart, for screen readers and for anyone who wants the numbers.
import { Chart, BarController, BarElement, LineController, LineElement, PointElement, CategoryScale, LinearScale, Legend, Tooltip } from 'chart.js';
import { h, replace } from '../common/dom.js';
import { t } from './strings.js';
import { api } from './session.js';
import { messageBox, table, when, colorWord } from './ui.js';

Chart.register(BarController, BarElement, LineController, LineElement, PointElement, CategoryScale, LinearScale, Legend, Tooltip);

const RESULTS = ['green', 'yellow', 'red', 'expired', 'invalid', 'unknown'];
const COLORS = ['green', 'yellow', 'red'];
let charts = []; // the charts on show, destroyed before the next render (they watch their size)

// A colour of the palette (style.css/base.css custom properties), so the charts match the pills.
function ink(name) {
	const v = getComputedStyle(document.documentElement).getPropertyValue(`--${name}`).trim();
	return v || '#888';
}

// Parts of when()'s local "YYYY-MM-DD HH:MM": the hour ("08:00") and the day ("11-27").
const hourLabel = (at) => `${when(at).slice(11, 13)}:00`;
const dayLabel = (at) => when(at).slice(5, 10);

// A chart in a card: title, canvas (its chart kept on it as .chart, for tests and the devtools) and its table.
function chartCard(id, title, config, numbers) {
	const canvas = h('canvas', { id: `chart-${id}`, role: 'img', 'aria-label': title });
	const card = h('div', { class: 'card chart-card', id: `card-${id}` },
		h('h2', null, title),
		h('div', { class: 'chart-box' }, canvas),
		h('details', { class: 'numbers' }, h('summary', null, t('dash_numbers')), numbers));
	const chart = new Chart(canvas, {
		...config,
		options: {
			animation: false,
			responsive: true,
			maintainAspectRatio: false,
			plugins: { legend: { display: config.data.datasets.length > 1, position: 'bottom' } },
			...config.options,
		},
	});
	canvas.chart = chart;
	charts.push(chart);
	return card;
}

const stacked = { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } };
const counts = { y: { beginAtZero: true, ticks: { precision: 0 } } };

function big(id, label, n, warn) {
	return h('div', { class: ['card', 'big', warn && n > 0 ? 'warn' : null] },
		h('div', { class: 'big-number', id }, String(n)), h('div', { class: 'muted' }, label));
}

export async function dashboard(main) {
	charts.forEach((c) => c.destroy());
	charts = [];
	const box = messageBox('dash-error');
	const body = h('div', { id: 'dashboard', class: 'dashboard' }, h('p', { class: 'muted' }, t('loading')));
	replace(main, h('div', { class: 'row' }, h('h1', null, t('dash_title')), h('span', { class: 'spacer' }),
		h('button', { id: 'dash-refresh', class: 'secondary', type: 'button', onclick: () => dashboard(main) }, t('refresh'))), box, body);
	let s;
	try {
		s = await api('GET', `/v1/staff/stats?tz_offset=${-new Date().getTimezoneOffset()}`);
	} catch (e) {
		replace(body);
		box.error(e.status === 404 ? { message: t('dash_unavailable') } : e);
		return;
	}
	if (!main.isConnected) return; // another section was opened meanwhile
	const byHour = s.uses_by_hour || [];
	const byDay = s.uses_by_day || [];
	const byScene = s.scans_by_scene || [];
	const byDistrict = s.colors_by_district || [];
	const appeals = s.appeals || { open: 0, overdue: 0 };
	const districtName = (d) => d.name || d.division;
	const sceneName = (x) => t.or(`scene.${x.scene}`, x.scene);
	const sum = (rows, keys) => rows.reduce((a, r) => a + keys.reduce((b, k) => b + (r[k] || 0), 0), 0);

	replace(body,
		h('p', { class: 'muted', id: 'dash-generated' }, t('dash_generated', { t: when(s.generated_at, true), r: when(s.residents_at, true) })),
		h('div', { class: 'bigs' },
			big('dash-appeals-open', t('dash_appeals_open'), appeals.open, false),
			big('dash-appeals-overdue', t('dash_appeals_overdue'), appeals.overdue, true),
			big('dash-scans-24h', t('dash_scans_24h'), sum(byHour, ['scans']), false)),
		h('div', { class: 'grid2' },
			chartCard('by-hour', t('dash_by_hour'), {
				type: 'bar',
				data: { labels: byHour.map((x) => hourLabel(x.at)), datasets: [{ label: t('dash_scans'), data: byHour.map((x) => x.scans), backgroundColor: ink('brand') }] },
				options: { scales: counts },
			}, table([t('dash_hour'), t('dash_scans')], byHour.map((x) => [when(x.at), x.scans]), { rowProps: () => ({ class: 'num-hour' }) })),
			chartCard('by-day', t('dash_by_day'), {
				type: 'line',
				data: { labels: byDay.map((x) => dayLabel(x.at)), datasets: [{ label: t('dash_scans'), data: byDay.map((x) => x.scans), borderColor: ink('brand'), backgroundColor: ink('brand') }] },
				options: { scales: counts },
			}, table([t('dash_day'), t('dash_scans')], byDay.map((x) => [dayLabel(x.at), x.scans]), { rowProps: () => ({ class: 'num-day' }) })),
			chartCard('by-scene', t('dash_by_scene'), {
				type: 'bar',
				data: {
					labels: byScene.map(sceneName),
					datasets: RESULTS.map((r) => ({ label: colorWord(r), data: byScene.map((x) => x[r] || 0), backgroundColor: ink(`result-${r}`) })),
				},
				options: { scales: stacked },
			}, table([t('dash_scene'), ...RESULTS.map((r) => colorWord(r)), t('dash_total')],
				byScene.map((x) => [sceneName(x), ...RESULTS.map((r) => x[r] || 0), sum([x], RESULTS)]),
				{ rowProps: (i) => ({ class: 'num-scene', 'data-scene': byScene[i].scene }) })),
			chartCard('by-district', t('dash_by_district'), {
				type: 'bar',
				data: {
					labels: byDistrict.map(districtName),
					datasets: COLORS.map((c) => ({ label: colorWord(c), data: byDistrict.map((x) => x[c] || 0), backgroundColor: ink(`result-${c}`) })),
				},
				options: { scales: stacked },
			}, table([t('dash_district'), ...COLORS.map((c) => colorWord(c)), t('dash_total')],
				byDistrict.map((x) => [districtName(x), ...COLORS.map((c) => x[c] || 0), sum([x], COLORS)]),
				{ rowProps: (i) => ({ class: 'num-district', 'data-division': byDistrict[i].division }) }))));
}
