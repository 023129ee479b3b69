// Builds the three pages into dist/, which `suishen serve` serves:
//   dist/index.html (resident, /), dist/terminal.html (/terminal), dist/console.html (/console), all three from
//   the one template below (they differ only in their title): one stylesheet, one module script, no inline script
//   or style (the server's Content-Security-Policy allows none).
//   dist/assets/<name>-<hash>.{js,css}: content-hashed, so the server lets browsers keep them for a year.
//   <file>.gz beside each file of more than 1 KB: the same compressed once here, sent to browsers that take gzip.
// Everything a page needs is in dist/: nothing is fetched from elsewhere at run time.
// The build refuses sources that would turn text into markup (innerHTML and its kin): every name and text
// from the API reaches the page as a text node (src/common/dom.js).
import * as esbuild from 'esbuild';
import { readFileSync, writeFileSync, rmSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { gzipSync, constants } from 'node:zlib';
import { join, relative } from 'node:path';

const here = new URL('.', import.meta.url).pathname;
const src = join(here, 'src');
const dist = join(here, 'dist');
const pages = [
	{ name: 'resident', html: 'index.html', title: '随申码 suishen' },
	{ name: 'terminal', html: 'terminal.html', title: '验码终端 suishen terminal' },
	{ name: 'console', html: 'console.html', title: '管理控制台 suishen console' },
];

// The page: the script fills <main id="app">. The empty icon spares the browser asking for /favicon.ico.
const template = ({ title, style, script }) => `<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover">
<meta name="theme-color" content="#1a57c8">
<title>${title}</title>
<link rel="icon" href="data:,">
${style ? `<link rel="stylesheet" href="${style}">` : ''}
<script type="module" src="${script}"></script>
</head>
<body>
<noscript>随申码需要 JavaScript。 suishen needs JavaScript.</noscript>
<main id="app"></main>
</body>
</html>
`;

function* files(dir) {
	for (const name of readdirSync(dir)) {
		const path = join(dir, name);
		if (statSync(path).isDirectory()) yield* files(path);
		else yield path;
	}
}

// Markup from strings is how text from the API could become script: none of it in our sources.
const forbidden =
	/\b(innerHTML|outerHTML|insertAdjacentHTML|document\.write|createContextualFragment|setHTMLUnsafe|parseHTMLUnsafe|DOMParser|srcdoc|eval|new Function)\b|javascript:/i;
const bad = [];
for (const path of files(src)) {
	if (!/\.(js|mjs)$/.test(path)) continue;
	readFileSync(path, 'utf8').split('\n').forEach((line, i) => {
		if (!/^\s*(\/\/|\*|\/\*)/.test(line) && forbidden.test(line)) bad.push(`${relative(here, path)}:${i + 1}: ${line.trim()}`);
	});
}
if (bad.length) {
	console.error('web build: markup from strings is not allowed (use src/common/dom.js):\n  ' + bad.join('\n  '));
	process.exit(1);
}

rmSync(dist, { recursive: true, force: true });
mkdirSync(join(dist, 'assets'), { recursive: true });
const result = await esbuild.build({
	absWorkingDir: here,
	entryPoints: pages.map((p) => ({ in: `src/${p.name}/main.js`, out: p.name })),
	entryNames: 'assets/[name]-[hash]',
	assetNames: 'assets/[name]-[hash]',
	outdir: dist,
	bundle: true,
	minify: true,
	sourcemap: false,
	format: 'esm',
	target: ['chrome100', 'safari15', 'firefox100'],
	legalComments: 'eof',
	metafile: true,
	logLevel: 'warning',
});

for (const page of pages) {
	const [out, meta] = Object.entries(result.metafile.outputs).find(
		([, m]) => m.entryPoint === `src/${page.name}/main.js`,
	);
	const script = '/' + relative(dist, join(here, out));
	const style = meta.cssBundle ? '/' + relative(dist, join(here, meta.cssBundle)) : null;
	writeFileSync(join(dist, page.html), template({ title: page.title, style, script }));
}
for (const path of [...files(dist)]) {
	const data = readFileSync(path);
	if (data.length > 1024) writeFileSync(path + '.gz', gzipSync(data, { level: constants.Z_BEST_COMPRESSION }));
}
const sizes = [...files(dist)].map((p) => `${relative(dist, p)} ${statSync(p).size}`);
console.log('web build: dist/\n  ' + sizes.join('\n  '));
