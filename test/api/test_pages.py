"""The web pages that `suishen serve --web DIR` serves beside the API (src/http/pages.c, src/api/router.c).

Covers, with a small DIR made here: `/` and `/index.html` (DIR/index.html), `/terminal`, `/terminal/`, `/console`,
`/console/` (their HTML files) and `/assets/NAME` (DIR/assets/NAME), byte for byte; the content type by extension;
`Cache-Control` (pages `no-cache`, assets a year and `immutable`); the ETag (quoted 16 hex, one per content) and
`If-None-Match` (-> 304 with no body; weak, listed and `*` forms too); HEAD (the GET's headers, no body); the security
headers (CSP, nosniff, DENY, no-referrer, same-origin, Permissions-Policy) on every page and asset; unknown paths and
other methods (404 in the error shape); path traversal (`..`, encoded dots and slashes, hidden names, sub-directories)
never reaching a file that is not a plain file of DIR/assets, and an encoded NUL not cutting a path short; other methods
on a built page do not claim the pages are not built. A DIR with an asset whose name is not plain, a DIR with
no index.html and a DIR that does not exist: the server still serves the API, logs `no_pages`, and the pages answer 404
"not built". And the real pages (web/dist, the default `--web`): each HTML page loads its own content-hashed script
(as a module) and style sheet, which answer with their types and immutable caching, and no page has inline script or
inline style (the CSP allows neither).
"""
import http.client
import json
import re
from pathlib import Path

import pytest

from conftest import HTTP_TIMEOUT, REPO, _city, assert_error

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; "
       "media-src 'self' blob:; font-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'self'; "
       "frame-ancestors 'none'")
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
}
PAGE_CACHE = "no-cache"
ASSET_CACHE = "public, max-age=31536000, immutable"
HTML = "text/html; charset=utf-8"
ETAG = re.compile(r'"[0-9a-f]{16}(-gz)?"')  # quoted 16 hex; "-gz" for the compressed copy

INDEX = "<!doctype html><title>resident 居民</title><main id=app>index-page</main>\n".encode()
TERMINAL = "<!doctype html><title>terminal 终端</title><main id=app>terminal-page</main>\n".encode()
CONSOLE = "<!doctype html><title>console 控制台</title><main id=app>console-page</main>\n".encode()
SECRET = b"OUTSIDE-ASSETS-must-never-be-served\n"
ASSETS = {  # name -> (content, expected Content-Type)
    "app-1234.js": (b"export const x = 1; // app\n", "text/javascript; charset=utf-8"),
    "s-1.css": (b"body { color: #123456 }\n", "text/css; charset=utf-8"),
    "i.svg": (b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"><rect width="1" height="1"/></svg>\n',
              "image/svg+xml"),
    "b.bin": (bytes(range(256)) * 3, "application/octet-stream"),
    "p.png": (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "image/png"),
    "noext": (b"no extension at all", "application/octet-stream"),
    "x.html": (b"<p>an asset that is HTML</p>", HTML),
}
PAGES = {"/": INDEX, "/index.html": INDEX, "/terminal": TERMINAL, "/terminal/": TERMINAL, "/console": CONSOLE,
         "/console/": CONSOLE}


def make_web_dir(root, assets=None, index=True):
    d = Path(root)
    (d / "assets").mkdir(parents=True)
    if index:
        (d / "index.html").write_bytes(INDEX)
    (d / "terminal.html").write_bytes(TERMINAL)
    (d / "console.html").write_bytes(CONSOLE)
    for name, (content, _) in (ASSETS if assets is None else assets).items():
        (d / "assets" / name).write_bytes(content)
    return d


def raw(city, method, path, headers=None):
    """A request with the path sent exactly as given (requests/urllib3 would remove dot segments): (status, headers
    as a dict, body bytes)."""
    conn = http.client.HTTPConnection("127.0.0.1", city.port, timeout=HTTP_TIMEOUT)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        for k, v in (headers or {}).items():
            conn.putheader(k, v)
        conn.endheaders()
        r = conn.getresponse()
        body = r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, body
    finally:
        conn.close()


def check_security_headers(r):
    for name, value in SECURITY_HEADERS.items():
        assert r.headers.get(name) == value, (name, r.headers.get(name))
    pp = r.headers.get("Permissions-Policy", "")
    assert "camera=(self)" in pp, pp  # the terminal page reads codes with the camera
    assert "microphone=()" in pp and "geolocation=()" in pp, pp


def check_not_found(r):
    assert_error(r, 404, "not_found")
    return r.json()["error"]["message"]


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    root = tmp_path_factory.mktemp("pages")
    d = make_web_dir(root / "web")
    (d / "secret.txt").write_bytes(SECRET)  # beside assets/, not in it
    (d / ".hidden").write_bytes(SECRET)
    (d / "assets" / "sub").mkdir()  # a sub-directory of assets: not served
    (d / "assets" / "sub" / "x.js").write_bytes(SECRET)
    c = _city(tmp_path_factory.mktemp("pages-city"), pool=2, start=False)
    c.start(extra_args=["--web", str(d)])
    yield c
    c.close()


# -- pages and assets ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", list(PAGES))
def test_page(web, path):
    r = web.get(path)
    assert r.status_code == 200, r.text[:300]
    assert r.content == PAGES[path]
    assert r.headers["Content-Type"] == HTML
    assert r.headers.get("Cache-Control") == PAGE_CACHE
    assert ETAG.fullmatch(r.headers.get("ETag", "")), r.headers.get("ETag")
    assert int(r.headers["Content-Length"]) == len(PAGES[path])
    check_security_headers(r)


@pytest.mark.parametrize("name", list(ASSETS))
def test_asset(web, name):
    content, ctype = ASSETS[name]
    r = web.get(f"/assets/{name}")
    assert r.status_code == 200, r.text[:300]
    assert r.content == content
    assert r.headers["Content-Type"] == ctype
    assert r.headers.get("Cache-Control") == ASSET_CACHE
    assert ETAG.fullmatch(r.headers.get("ETag", "")), r.headers.get("ETag")
    check_security_headers(r)


def test_page_with_a_query_string(web):
    r = web.get("/?lang=en")
    assert r.status_code == 200 and r.content == INDEX, r.text[:300]
    r = web.get("/assets/app-1234.js?v=2")
    assert r.status_code == 200 and r.content == ASSETS["app-1234.js"][0], r.text[:300]


def test_etags_follow_content(web):
    tags = {}
    for path in ["/", "/terminal", "/console"] + [f"/assets/{n}" for n in ASSETS]:
        tags[path] = web.get(path).headers["ETag"]
    assert len(set(tags.values())) == len(tags), tags  # different contents, different tags
    # the same content under two URLs has one tag; asking again gives the same tag
    assert web.get("/index.html").headers["ETag"] == tags["/"]
    assert web.get("/console/").headers["ETag"] == tags["/console"]
    assert web.get("/").headers["ETag"] == tags["/"]


@pytest.mark.parametrize("path", ["/", "/index.html", "/terminal/", "/console", "/assets/app-1234.js",
                                  "/assets/b.bin"])
def test_if_none_match(web, path):
    first = web.get(path)
    tag = first.headers["ETag"]
    for inm in (tag, f"W/{tag}", f'"0000000000000000", {tag}', f"{tag}, \"ffffffffffffffff\"", "*"):
        r = web.get(path, headers={"If-None-Match": inm})
        assert r.status_code == 304, (inm, r.status_code)
        assert r.content == b"", inm
        assert r.headers.get("ETag") == tag, inm
        assert r.headers.get("Cache-Control") == first.headers["Cache-Control"], inm
        check_security_headers(r)
    # a tag that is not this content's, or a prefix of it, gets the whole answer
    for inm in ('"0000000000000000"', tag[:-2] + '"', tag[:-1], tag.strip('"')):
        r = web.get(path, headers={"If-None-Match": inm})
        assert r.status_code == 200, (inm, r.status_code)
        assert r.content == first.content, inm


@pytest.mark.parametrize("path", ["/", "/terminal", "/console/", "/assets/s-1.css", "/assets/i.svg"])
def test_head_is_get_without_body(web, path):
    g = web.get(path)
    status, headers, body = raw(web, "HEAD", path)
    assert status == 200
    assert body == b""
    for name in ("content-type", "etag", "cache-control", "content-security-policy", "x-frame-options",
                 "x-content-type-options"):
        assert headers.get(name) == g.headers.get(name), name
    assert headers.get("content-length") in (None, str(len(g.content)))
    # HEAD with the tag: 304
    status, headers, body = raw(web, "HEAD", path, {"If-None-Match": g.headers["ETag"]})
    assert status == 304 and body == b""


def test_head_of_an_unknown_path_is_404(web):
    status, headers, body = raw(web, "HEAD", "/no-such-page")
    assert status == 404 and body == b""


@pytest.mark.parametrize("path", ["/nope", "/index.htm", "/terminal.html", "/console.html", "/Terminal", "/terminal//",
                                  "/console/x", "/assets", "/assets/", "/assets/app-1234.JS", "/assets/app-1234.js/",
                                  "/assets/nope.js", "/secret.txt", "/assets/app", "/v1", "/v1/", "/v1/nope",
                                  "/favicon.ico"])
def test_unknown_paths_are_404(web, path):
    r = web.get(path)
    check_not_found(r)
    assert r.headers.get("ETag") is None


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
@pytest.mark.parametrize("path", ["/", "/terminal", "/assets/app-1234.js"])
def test_other_methods_are_404(web, method, path):
    r = web.request(method, path, data=b"{}")
    check_not_found(r)
    assert INDEX not in r.content and ASSETS["app-1234.js"][0] not in r.content


def test_other_methods_on_a_built_page_do_not_say_not_built(web):
    """The pages are built here: a POST (PUT, DELETE) to one is simply no endpoint, not "the pages are not built"."""
    said = {}
    for method in ("POST", "PUT", "DELETE"):
        for path in ("/", "/terminal", "/console"):
            msg = check_not_found(web.request(method, path, data=b"{}"))
            if "not built" in msg:
                said[f"{method} {path}"] = msg
    assert not said, said


@pytest.mark.parametrize("path", [
    "/assets/../index.html", "/assets/../secret.txt", "/assets/%2e%2e/secret.txt", "/assets/%2E%2E/secret.txt",
    "/assets/..%2fsecret.txt", "/assets/%2e%2e%2fsecret.txt", "/assets/..%2Fsecret.txt", "/assets/.hidden",
    "/assets/../.hidden", "/assets/sub/x.js", "/assets/sub%2fx.js", "/assets/sub", "/assets/./app-1234.js",
    "/assets/../../../../../../etc/passwd", "/assets/%2e%2e/%2e%2e/%2e%2e/etc/passwd", "/../secret.txt",
    "/%2e%2e/secret.txt", "/assets/..\\secret.txt", "/assets//app-1234.js",
    "/assets/.", "/assets/..", "/.hidden", "/terminal/../secret.txt",
])
def test_traversal_never_leaves_assets(web, path):
    status, headers, body = raw(web, "GET", path)
    assert SECRET not in body, path
    assert b"root:" not in body, path
    assert status == 404, (path, status, body[:200])
    assert headers.get("content-type", "").startswith("application/json"), headers
    assert json.loads(body)["error"]["code"] == "not_found", body


def test_an_encoded_nul_does_not_cut_the_path(web):
    """A path with %00 names no file: it must not be read as the shorter name before the NUL (an asset served under
    a URL whose extension says another type, and cached for a year)."""
    served = {}
    for path in ("/assets/app-1234.js%00.png", "/assets/app-1234.js%00", "/%00", "/terminal%00x",
                 "/index.html%00.txt"):
        status, headers, body = raw(web, "GET", path)
        if status not in (400, 404) or body in (INDEX, TERMINAL, ASSETS["app-1234.js"][0]):
            served[path] = (status, headers.get("content-type"), body[:40])
    assert not served, served


def test_api_beside_the_pages(web):
    assert web.get("/healthz").json() == {"status": "ok"}
    r = web.get("/v1/staff/me", token=web.staff["admin"]["token"])
    assert r.status_code == 200 and r.json()["role"] == "admin", r.text
    # API answers carry their own headers, not the pages' caching
    assert r.headers.get("Cache-Control") != ASSET_CACHE


# -- no pages: the API alone -----------------------------------------------------------------------------------------


def api_only(tmp_path, web_dir):
    (tmp_path / "city").mkdir()
    c = _city(tmp_path / "city", pool=2, start=False)
    c.start(extra_args=["--web", str(web_dir)])
    return c


def check_api_only(c, why=None):
    """The API works, the pages' paths are 404 saying so, and the log's no_pages line says why (`why` in it)."""
    try:
        assert c.get("/healthz").json() == {"status": "ok"}
        r = c.get("/v1/staff/me", token=c.staff["operator"]["token"])
        assert r.status_code == 200 and r.json()["role"] == "operator", r.text
        for path in ("/", "/terminal", "/console"):
            msg = check_not_found(c.get(path))
            assert "not built or could not be loaded" in msg and "no_pages" in msg, (path, msg)
            assert str(c.root) not in msg, "a server path in the answer"
            status, _, body = raw(c, "HEAD", path)
            assert status == 404 and body == b""
        for path in ("/index.html", "/terminal/", "/assets/app-1234.js", "/assets/s-1.css"):
            r = c.get(path)
            check_not_found(r)
            assert INDEX not in r.content and ASSETS["app-1234.js"][0] not in r.content
            assert r.headers.get("ETag") is None
        line = next((l for l in c.log_bytes().decode("utf-8", "replace").splitlines() if "event=no_pages" in l), "")
        assert line, c.log_tail()
        assert why is None or why in line, (why, line)
    finally:
        c.close()


@pytest.mark.parametrize("bad", ["a b.js", "x~.js", "é.js", "a+b.css", "a:b.js"])
def test_asset_with_a_name_that_is_not_plain(tmp_path, bad):
    d = make_web_dir(tmp_path / "web")
    (d / "assets" / bad).write_bytes(b"bad name")
    check_api_only(api_only(tmp_path, d), why="is not a plain file name")


def test_hidden_files_links_and_folders_in_assets_are_left_out(fresh_city, tmp_path):
    """What an editor or a copy leaves (.hidden, a folder), and a link to a file outside, are not served; the rest is."""
    d = make_web_dir(tmp_path / "web")
    (d / "assets" / ".hidden").write_bytes(b"hidden")
    (d / "assets" / "sub").mkdir()
    (d / "assets" / "sub" / "x.js").write_bytes(b"in a folder")
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"outside the assets")
    (d / "assets" / "link.txt").symlink_to(secret)
    fresh_city.stop()
    fresh_city.start(extra_args=["--web", str(d)])
    assert fresh_city.get("/assets/app-1234.js").status_code == 200
    for path in ("/assets/.hidden", "/assets/sub", "/assets/sub/x.js", "/assets/link.txt"):
        r = fresh_city.get(path)
        assert r.status_code == 404 and b"outside the assets" not in r.content, (path, r.status_code)


def test_a_page_that_is_a_link_is_refused(tmp_path):
    d = make_web_dir(tmp_path / "web")
    real = tmp_path / "elsewhere.html"
    real.write_bytes(b"<!doctype html><title>elsewhere</title>")
    (d / "index.html").unlink()
    (d / "index.html").symlink_to(real)
    check_api_only(api_only(tmp_path, d))


def test_no_index_html(tmp_path):
    d = make_web_dir(tmp_path / "web", index=False)
    check_api_only(api_only(tmp_path, d), why="no built pages")


def test_missing_dir(tmp_path):
    check_api_only(api_only(tmp_path, tmp_path / "does-not-exist"))


def test_dir_that_is_a_file(tmp_path):
    f = tmp_path / "file"
    f.write_bytes(INDEX)
    check_api_only(api_only(tmp_path, f))


def test_only_index_html(tmp_path):
    """terminal.html, console.html and assets/ are optional: / alone is served, the others are 404."""
    d = tmp_path / "web"
    d.mkdir()
    (d / "index.html").write_bytes(INDEX)
    c = api_only(tmp_path, d)
    try:
        r = c.get("/")
        assert r.status_code == 200 and r.content == INDEX
        check_security_headers(r)
        for path in ("/terminal", "/console/", "/assets/app-1234.js"):
            check_not_found(c.get(path))
        assert b"no_pages" not in c.log_bytes(), c.log_tail()
    finally:
        c.close()


# -- the real pages --------------------------------------------------------------------------------------------------

SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script\s*>", re.S | re.I)
LINK = re.compile(r"<link\b([^>]*)>", re.I)


def attrs(text):
    return {k.lower(): v for k, v in re.findall(r'([\w-]+)\s*=\s*"([^"]*)"', text)}


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    if not (REPO / "web" / "dist" / "index.html").exists():
        pytest.fail("web/dist is not built (cd web && node build.mjs)")
    c = _city(tmp_path_factory.mktemp("real"), pool=2, start=False)
    c.start()  # the default --web: web/dist of the source tree
    yield c
    c.close()


@pytest.mark.parametrize("path,name", [("/", "resident"), ("/terminal", "terminal"), ("/console", "console")])
def test_real_pages(real, path, name):
    r = real.get(path)
    assert r.status_code == 200, r.text[:300]
    assert r.headers["Content-Type"] == HTML
    assert r.headers.get("Cache-Control") == PAGE_CACHE
    check_security_headers(r)
    html = r.content.decode("utf-8")
    assert re.match(r"\s*<!doctype html>", html, re.I), html[:100]

    scripts = SCRIPT.findall(html)
    assert scripts, html
    for attr_text, content in scripts:
        assert content.strip() == "", f"inline script in {path}: {content[:200]!r}"
        a = attrs(attr_text)
        assert a.get("type") == "module", attr_text
    srcs = [attrs(t)["src"] for t, _ in scripts]
    assert any(re.fullmatch(rf"/assets/{name}-[A-Za-z0-9_-]+\.js", s) for s in srcs), srcs
    sheets = [attrs(t) for t in LINK.findall(html)]
    hrefs = [a["href"] for a in sheets if a.get("rel") == "stylesheet"]
    assert any(re.fullmatch(rf"/assets/{name}-[A-Za-z0-9_-]+\.css", h) for h in hrefs), hrefs
    assert not re.search(r"<style\b", html, re.I), "inline <style> element"
    assert not re.search(r"\sstyle\s*=", html, re.I), "a style= attribute"
    assert not re.search(r"\son[a-z]+\s*=", html, re.I), "an inline event handler"
    assert "javascript:" not in html.lower()

    for url, ctype in [(s, "text/javascript; charset=utf-8") for s in srcs] + \
                      [(h, "text/css; charset=utf-8") for h in hrefs]:
        assert url.startswith("/assets/"), url
        a = real.get(url)
        assert a.status_code == 200, (url, a.status_code)
        assert a.headers["Content-Type"] == ctype, url
        assert a.headers.get("Cache-Control") == ASSET_CACHE, url
        assert ETAG.fullmatch(a.headers.get("ETag", "")), url
        assert len(a.content) > 100, url
        check_security_headers(a)
        assert real.get(url, headers={"If-None-Match": a.headers["ETag"]}).status_code == 304

    # the trailing-slash form is the same page
    assert real.get(path.rstrip("/") + "/" if path != "/" else "/index.html").content == r.content


# -- compressed copies (FILE.gz beside FILE, written by the build) ------------------------------------------------


@pytest.fixture(scope="module")
def gz_web(tmp_path_factory):
    import gzip
    root = tmp_path_factory.mktemp("gzweb")
    d = make_web_dir(root / "web")
    for f in (d / "index.html", d / "assets" / "app-1234.js"):
        (f.parent / (f.name + ".gz")).write_bytes(gzip.compress(f.read_bytes() * 3))  # *3: its own content
    (d / "assets" / "orphan.js.gz").write_bytes(gzip.compress(b"no file of its own"))
    c = _city(root, pool=0, staff=False, start=False)
    c.start(extra_args=["--web", str(d)])
    yield c, d
    c.close()


@pytest.mark.parametrize("path,file", [("/", "index.html"), ("/assets/app-1234.js", "assets/app-1234.js")])
def test_gzip_to_who_takes_it(gz_web, path, file):
    import gzip
    c, d = gz_web
    plain = (d / file).read_bytes()
    status, h, body = raw(c, "GET", path, {"Accept-Encoding": "br, gzip;q=0.8"})
    assert status == 200 and h.get("content-encoding") == "gzip" and h.get("vary") == "Accept-Encoding", h
    assert gzip.decompress(body) == plain * 3
    gz_tag = h["etag"]
    for ae in (None, "identity", "gzip;q=0", "gzip; q=0.000", "br", "*;q=0"):
        status, h2, body2 = raw(c, "GET", path, {"Accept-Encoding": ae} if ae else {})
        assert status == 200 and "content-encoding" not in h2 and body2 == plain, ae
        assert h2.get("vary") == "Accept-Encoding" and h2["etag"] != gz_tag, ae
    # each representation revalidates with its own tag
    assert raw(c, "GET", path, {"Accept-Encoding": "gzip", "If-None-Match": gz_tag})[0] == 304
    assert raw(c, "GET", path, {"If-None-Match": gz_tag})[0] == 200
    status, h3, body3 = raw(c, "GET", path, {"Accept-Encoding": "*"})
    assert h3.get("content-encoding") == "gzip" and gzip.decompress(body3) == plain * 3


def test_a_file_without_a_compressed_copy_is_sent_as_it_is(gz_web):
    c, d = gz_web
    status, h, body = raw(c, "GET", "/assets/s-1.css", {"Accept-Encoding": "gzip"})
    assert status == 200 and "content-encoding" not in h and "vary" not in h
    assert body == (d / "assets" / "s-1.css").read_bytes()
    # a compressed copy is never a file of its own
    for path in ("/assets/app-1234.js.gz", "/assets/orphan.js.gz", "/assets/orphan.js"):
        assert raw(c, "GET", path)[0] == 404, path


def test_the_real_pages_are_sent_compressed(real):
    """The build writes a .gz beside every file over 1 KB; the resident's script comes compressed and whole."""
    import gzip
    c = real
    status, h, body = raw(c, "GET", "/", {"Accept-Encoding": "gzip"})
    script = re.search(r'<script type="module" src="(/assets/resident-[^"]+\.js)"', body.decode()
                       if "content-encoding" not in h else gzip.decompress(body).decode()).group(1)
    status, h, body = raw(c, "GET", script, {"Accept-Encoding": "gzip, deflate"})
    assert status == 200 and h.get("content-encoding") == "gzip"
    whole = gzip.decompress(body)
    assert len(body) < len(whole) / 2
    assert raw(c, "GET", script)[2] == whole
