// resident page (/): what a resident opens on a phone: log in or register, then the code card, the colour's
// reasons, scan and access records, relatives, appeals and declarations, with a tab bar at the bottom.
// The page lives in one tab: the token in sessionStorage, the view in memory (no personal data in the URL).
import './style.css';
import { h, replace } from '../common/dom.js';
import { call } from '../common/api.js';
import { getLang, setLang, onLang } from '../common/i18n.js';
import { t, L, La } from './strings.js';
import { token, setToken, clearToken, whenExpired, CHANNEL } from './session.js';
import { loginView, registerView } from './auth.js';
import { codeView } from './code.js';
import { statusView } from './status.js';
import { recordsView } from './records.js';
import { relativesView } from './relatives.js';
import { appealsView } from './appeals.js';
import { declareView } from './declare.js';

const VIEWS = {
	code: codeView,
	status: statusView,
	scans: recordsView,
	relatives: relativesView,
	appeals: appealsView,
	declare: declareView,
};

const app = document.getElementById('app');
let current = null; // { name, view } of the view on screen
let codeTarget = null; // the holder the code card shows (null: me), kept while moving between views

// ---- the frame: header and tab bar ------------------------------------------------------------------------------

const langToggle = h('button', { type: 'button', id: 'lang-toggle', class: 'lang-toggle' }, L('lang.toggle'));
La(langToggle, 'aria-label', 'lang.label');
langToggle.addEventListener('click', () => setLang(getLang() === 'en' ? 'zh' : 'en'));
const logoutBtn = h('button', { type: 'button', id: 'logout', class: 'logout', hidden: true }, L('logout'));
logoutBtn.addEventListener('click', () => {
	// Log-in shows at once (the code view and its timers stop first); then the session ends on the server
	// (DELETE /v1/sessions), not only in this tab, unwaited: the page has forgotten the token whatever the answer
	// (offline, or already expired).
	const tok = token();
	clearToken();
	showLogin('login.loggedOut');
	if (tok) {
		call('DELETE', '/v1/sessions', { token: tok, headers: CHANNEL }).catch(() => {
			/* nothing more to do: the token is gone from the page */
		});
	}
});

const header = h('header', { class: 'topbar' },
	h('div', { class: 'brand' },
		h('span', { class: 'brand-mark', 'aria-hidden': 'true' }),
		h('div', null, h('div', { class: 'brand-title' }, L('app.title')), h('div', { class: 'brand-sub' }, L('app.sub')))),
	h('span', { class: 'spacer' }),
	langToggle,
	logoutBtn);

const navButtons = Object.keys(VIEWS).map((name) =>
	h('button', { type: 'button', id: `nav-${name}`, class: 'nav-btn', dataset: { view: name }, onclick: () => go(name) },
		h('span', { class: `nav-icon icon-${name}`, 'aria-hidden': 'true' }),
		h('span', { class: 'nav-label' }, L(`nav.${name}`))));
const nav = h('nav', { class: 'tabbar', id: 'tabbar', hidden: true }, navButtons);
const content = h('div', { class: 'content', id: 'content' });
replace(app, header, content, nav);

// ---- views ----------------------------------------------------------------------------------------------------

function stopCurrent() {
	if (current && current.view.stop) current.view.stop();
	current = null;
}

function go(name, opts = {}) {
	if (!token()) return showLogin();
	stopCurrent();
	if (name === 'code' && 'target' in opts) codeTarget = opts.target;
	const view = VIEWS[name]({
		go,
		...opts,
		target: codeTarget,
		onTarget: (t) => {
			codeTarget = t;
		},
	});
	current = { name, view };
	for (const b of navButtons) b.setAttribute('aria-current', b.dataset.view === name ? 'page' : 'false');
	nav.hidden = false;
	logoutBtn.hidden = false;
	app.dataset.view = name;
	replace(content, view.el);
	window.scrollTo(0, 0);
}

function showAuth(el, name) {
	stopCurrent();
	codeTarget = null;
	nav.hidden = true;
	logoutBtn.hidden = true;
	app.dataset.view = name;
	replace(content, el);
}

function showLogin(message) {
	showAuth(loginView({ message, onLoggedIn, toRegister: showRegister }), 'login');
}

function showRegister() {
	showAuth(registerView({ onLoggedIn, toLogin: () => showLogin() }), 'register');
}

function onLoggedIn(tok) {
	setToken(tok);
	go('code', { target: null });
}

whenExpired(() => showLogin('login.expired'));

onLang(() => {
	document.title = t('app.title');
	if (current && current.view.relabel) current.view.relabel();
});

// Coming back to the page: what is on screen may be stale (the code view looks after itself).
document.addEventListener('visibilitychange', () => {
	if (document.visibilityState === 'visible' && current && current.name !== 'code' && current.view.refresh) current.view.refresh();
});

document.title = t('app.title');
if (token()) go('code');
else showLogin();
