// i18n: the pages speak Chinese by default and English on request; the choice is kept in this browser.
// A page gives its dictionary { key: { zh: '...', en: '...' } }; t('key', { n: 3 }) fills {n}.

const KEY = 'suishen.lang';
let lang = localStorage.getItem(KEY) === 'en' ? 'en' : 'zh';
const listeners = [];

export function getLang() {
	return lang;
}

export function setLang(l) {
	lang = l === 'en' ? 'en' : 'zh';
	localStorage.setItem(KEY, lang);
	document.documentElement.lang = lang === 'en' ? 'en' : 'zh-CN';
	listeners.forEach((fn) => fn(lang));
}

// Calls fn(lang) whenever the language changes (to re-render).
export function onLang(fn) {
	listeners.push(fn);
}

// A translator over dict; an unknown key shows as itself (and is easy to spot). t.or(key, fallback, vars) is the
// translation if dict has key, else fallback: for values from the API (a state, a channel, a kind) that this page
// may have no words for, shown as the value itself rather than as our key.
export function translator(dict) {
	const has = (key) => Object.prototype.hasOwnProperty.call(dict, key); // (Object.hasOwn is not in Safari 15.0)
	const t = (key, vars = {}) => {
		const entry = has(key) ? dict[key] : null;
		let s = entry ? entry[lang] ?? entry.zh : key;
		for (const [k, v] of Object.entries(vars)) s = s.split(`{${k}}`).join(String(v));
		return s;
	};
	t.or = (key, fallback, vars) => (has(key) ? t(key, vars) : fallback);
	return t;
}

document.documentElement.lang = lang === 'en' ? 'en' : 'zh-CN';
