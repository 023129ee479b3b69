// nav: moving between sections (#section or #section/id in the URL's fragment: ids only, never personal data).
// main.js registers how to show a section; the sections call go() without importing main.js.
let show = () => {};

export function onNavigate(fn) {
	show = fn;
}

export function go(section, id) {
	const frag = id ? `#${section}/${id}` : `#${section}`;
	if (location.hash !== frag) history.pushState(null, '', frag);
	show();
}
