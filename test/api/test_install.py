"""`make install PREFIX=...` (scripts/install): the binary on PATH as PREFIX/bin/suishen, and the pages it serves in
PREFIX/share/suishen/web, where the installed binary finds them by itself (not in the source tree it was built from).

`make -n install` shows that the Makefile runs scripts/install with the build's binary and DESTDIR + PREFIX; the test
then runs that script with the binary under test, serves a data directory with the installed `suishen` found through
PATH, with no --web, and checks that the pages it answers are the installed ones (a copy changed after install) and
that its log names them. A second install replaces the first whole; `make uninstall` removes it.
"""
import os
import subprocess
import time

import requests

from conftest import BIN, REPO, clean_env, free_port

WEB = REPO / "web" / "dist"


def install(prefix):
    r = subprocess.run([str(REPO / "scripts" / "install"), BIN, str(prefix)], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    return r


def test_make_install_runs_the_install_script():
    r = subprocess.run(["make", "-n", "-C", str(REPO), "install", "PREFIX=/opt/suishen", "DESTDIR=/tmp/stage"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert 'scripts/install build/suishen "/tmp/stage/opt/suishen"' in r.stdout, r.stdout
    r = subprocess.run(["make", "-n", "-C", str(REPO), "uninstall", "PREFIX=/opt/suishen"], capture_output=True,
                       text=True, timeout=60)
    assert '"/opt/suishen/bin/suishen" "/opt/suishen/share/suishen"' in r.stdout, r.stdout


def test_installed_binary_serves_the_installed_pages(tmp_path):
    assert (WEB / "index.html").is_file(), "the pages are built (scripts/build-web) before the tests"
    prefix = tmp_path / "prefix"
    out = install(prefix).stdout
    assert f"installed {prefix}/bin/suishen" in out, out
    exe = prefix / "bin" / "suishen"
    pages = prefix / "share" / "suishen" / "web"
    assert os.access(exe, os.X_OK)
    assert sorted(p.name for p in pages.iterdir()) == sorted(p.name for p in WEB.iterdir())
    assert sorted(p.name for p in (pages / "assets").iterdir()) == sorted(p.name for p in (WEB / "assets").iterdir())
    # a page changed in the installed copy only: the installed binary must serve that one
    marker = f"<!-- installed copy {time.time()} -->"
    (pages / "index.html").write_text((WEB / "index.html").read_text(encoding="utf-8") + marker, encoding="utf-8")

    env = clean_env(PATH=f"{prefix / 'bin'}:{os.environ.get('PATH', '')}")
    env.pop("SUISHEN_LOG", None)
    data = tmp_path / "data"
    r = subprocess.run(["suishen", "init", "--data", str(data)], capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    port = free_port()
    log = tmp_path / "serve.log"
    with open(log, "wb") as err:
        proc = subprocess.Popen(["suishen", "serve", "--data", str(data), "--listen", f"127.0.0.1:{port}"],
                                stdout=err, stderr=err, env=env, cwd=str(tmp_path))
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).ok:
                    break
            except requests.ConnectionError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text(errors="replace")
            time.sleep(0.05)
        page = requests.get(f"http://127.0.0.1:{port}/", headers={"Accept-Encoding": "identity"}, timeout=10)
        assert page.status_code == 200 and marker in page.text, page.text[-200:]
        js = next(p.name for p in (pages / "assets").iterdir() if p.name.endswith(".js"))
        asset = requests.get(f"http://127.0.0.1:{port}/assets/{js}", headers={"Accept-Encoding": "identity"},
                             timeout=10)
        assert asset.status_code == 200 and asset.content == (pages / "assets" / js).read_bytes()
    finally:
        proc.terminate()
        assert proc.wait(timeout=20) == 0
    text = log.read_text(errors="replace")
    assert f'event=pages dir="{pages.resolve()}"' in text, text

    # installed again: replaced whole (the changed page is the build's again)
    install(prefix)
    assert (pages / "index.html").read_bytes() == (WEB / "index.html").read_bytes()
    r = subprocess.run(["make", "-s", "-C", str(REPO), "uninstall", f"PREFIX={prefix}"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0 and not exe.exists() and not (prefix / "share" / "suishen").exists(), r.stderr
