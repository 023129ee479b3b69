// console: the staff console at /console. Log-in with a staff token, then the sections the role may use:
// dashboard (everyone), appeals (handler), hotline (operator), rules and admin tools (admin), tracing
// (epidemiologist), alerts and audit (security). The section is kept in the URL's fragment (#appeals/12: ids
// only, never personal data) so that a reload stays where it was.
import './style.css';
import { h, replace, $ } from '../common/dom.js';
import { getLang, setLang, onLang } from '../common/i18n.js';
import { call } from '../common/api.js';
import { t } from './strings.js';
import { token, staff, setSession, endSession, whenExpired, SECTIONS, mayOpen } from './session.js';
import { messageBox, field } from './ui.js';
import { go, onNavigate } from './nav.js';
import { dashboard } from './dashboard.js';
import { appeals, appealPage } from './appeals.js';
import { operator } from './operator.js';
import { rules } from './rules.js';
import { trace } from './trace.js';
import { alerts } from './alerts.js';
import { audit } from './audit.js';

const app = $('#app');
const views = { dashboard, appeals, operator, rules, trace, alerts, audit };
let loginNote = null; // a word for the log-in form (why it shows again)
let current = null; // the section on show, to re-render it when the language changes

function langButton() {
	return h('button', { id: 'lang', class: 'secondary', type: 'button', onclick: () => setLang(getLang() === 'en' ? 'zh' : 'en') }, t('lang_switch'));
}

function showLogin() {
	current = null;
	document.title = t('title');
	const input = h('input', { type: 'password', autocomplete: 'off', spellcheck: 'false', required: true });
	const box = messageBox('login-error');
	const submit = h('button', { id: 'login-submit', type: 'submit' }, t('login_submit'));
	const form = h('form', { id: 'login', class: 'card login', novalidate: true },
		h('h1', null, t('login_title')),
		h('p', { class: 'muted' }, t('login_help')),
		field('login-token', t('login_token'), input),
		box,
		h('div', { class: 'row' }, submit, h('span', { class: 'spacer' }), langButton()));
	if (loginNote) box.notice(t(loginNote));
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		const tok = input.value.trim();
		if (!tok) return;
		submit.disabled = true;
		try {
			const who = await call('GET', '/v1/staff/me', { token: tok });
			setSession(tok, who);
			loginNote = null;
			input.value = '';
			route();
		} catch (e) {
			if (e.status === 401) box.error({ message: t('login_bad') });
			else box.error(e);
		} finally {
			submit.disabled = false;
		}
	});
	replace(app, h('div', { class: 'login-page' }, h('p', { class: 'brand' }, t('title')), form));
	input.focus();
}

// The frame around a section: who is logged in, the navigation of the role, the language switch.
function shell(section) {
	const me = staff();
	const nav = h('nav', { class: 'nav', 'aria-label': t('title') },
		SECTIONS.filter((s) => s.roles.includes(me.role)).map((s) =>
			h('button', {
				id: `nav-${s.id}`, type: 'button', class: 'navbtn', 'aria-current': s.id === section ? 'page' : null,
				onclick: () => go(s.id),
			}, t(`nav_${s.id}`))));
	const main = h('section', { id: 'view', class: 'view', tabindex: '-1' });
	replace(app,
		h('header', { class: 'top' },
			h('span', { class: 'brand' }, t('title')),
			h('span', { class: 'spacer' }),
			h('span', { id: 'whoami', 'data-role': me.role }, t('whoami', { name: me.name, role: t.or(`role_${me.role}`, me.role) })),
			langButton(),
			h('button', { id: 'logout', type: 'button', class: 'secondary', onclick: logout }, t('logout'))),
		h('div', { class: 'layout' }, nav, main));
	return main;
}

function logout() {
	endSession();
	loginNote = null;
	history.replaceState(null, '', location.pathname);
	showLogin();
}

// Shows what the fragment names, if the role may see it (else the dashboard).
function route() {
	const me = staff();
	if (!me) return showLogin();
	let [section, id] = location.hash.replace(/^#/, '').split('/');
	if (!mayOpen(section, me.role)) {
		section = 'dashboard';
		id = undefined;
	}
	current = section;
	document.title = `${t(`nav_${section}`)} · ${t('title')}`;
	const main = shell(section);
	if (section === 'appeals' && id && /^\d+$/.test(id)) appealPage(main, Number(id));
	else views[section](main);
}

onNavigate(route);
whenExpired(() => {
	loginNote = 'login_expired';
	showLogin();
});
window.addEventListener('popstate', () => staff() && route());
onLang(() => (current ? route() : showLogin()));

// A reload keeps the session of this tab: ask who the token belongs to again.
async function boot() {
	const tok = token();
	if (!tok) return showLogin();
	replace(app, h('p', { class: 'muted pad' }, t('loading')));
	try {
		setSession(tok, await call('GET', '/v1/staff/me', { token: tok }));
		route();
	} catch (e) {
		if (e.status === 401) endSession();
		showLogin();
	}
}
boot();
