#!/usr/bin/python3
"""test_web: the staff web page in a real browser.

Indexes the corpus plus one clause whose text holds <script> and
<img onerror=...> (tests/data/web/xss.jsonl), starts specdexd and
specdex-http, and drives Debian's headless Chromium through
chromium-driver and python3-selenium: the page searches "root cause
analysis" and shows Key Resp 06 at level 1 first and a ladder grid of
five levels with the matching cells marked; the URL holds the query and
the filters; a filter and the row view work from the keyboard; every
control has a label; the hostile clause is shown as text and never run.
Screenshots at 360 and 1280 px wide go to the build directory, and to
$SDX_SCREENSHOT_DIR when set (how docs/img/ is made).
usage: test_web.py BIN_DIR CORPUS_DIR DATA_DIR OUT_DIR
"""
import glob
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse

from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

BIN, CORPUS, DATA, OUT = sys.argv[1:5]
del sys.argv[1:5]
WAIT_S = 30  # a bound on waiting for the page, not a speed


def setUpModule():
    try:
        start()
    except BaseException:
        # unittest skips tearDownModule when setUpModule fails: without
        # this the daemon and gateway would outlive the test and hold
        # ctest's output pipe open until its timeout.
        tearDownModule()
        raise


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


TMP = DAEMON = GW = DRIVER = CHROMEDRIVER = None


def start():
    global TMP, DAEMON, GW, BASE, DRIVER
    TMP = tempfile.mkdtemp()
    corpus = os.path.join(TMP, "corpus")
    shutil.copytree(CORPUS, corpus)
    shutil.copy(os.path.join(DATA, "web", "xss.jsonl"), corpus)
    subprocess.run([os.path.join(BIN, "specdex-index"), "-o",
                    os.path.join(TMP, "index"), corpus], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ep = f"ipc://{TMP}/sdx.sock"
    DAEMON = subprocess.Popen([os.path.join(BIN, "specdexd"), "--index",
                               os.path.join(TMP, "index"), "--endpoint", ep,
                               "--threads", "2"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    GW = subprocess.Popen([os.path.join(BIN, "specdex-http"), "--listen",
                           "127.0.0.1:0", "--endpoint", ep],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          text=True)
    for line in GW.stderr:
        m = re.search(r"listening on (http://127\.0\.0\.1:\d+/)", line)
        if m:
            BASE = m.group(1)
            break
    else:
        raise RuntimeError("specdex-http did not start")
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for arg in ("--headless", "--no-sandbox", "--disable-gpu",
                "--disable-quic", "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage",
                # DevTools over a pipe, not a TCP port chromedriver would
                # reach as "localhost" (unresolvable without /etc/hosts).
                "--remote-debugging-pipe",
                "--user-data-dir=" + os.path.join(TMP, "chromium"),
                "--window-size=1280,900"):
        opts.add_argument(arg)
    # chromedriver started here on a port of our choosing and reached by
    # address: Selenium's own Service waits for "localhost", which a bare
    # system without /etc/hosts (a fresh debootstrap) cannot resolve.
    global CHROMEDRIVER
    port = free_port()
    CHROMEDRIVER = subprocess.Popen(
        ["/usr/bin/chromedriver", "--port=%d" % port],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = "http://127.0.0.1:%d" % port
    for _ in range(WAIT_S * 10):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.1)
    DRIVER = webdriver.Remote(command_executor=url, options=opts)
    DRIVER.set_page_load_timeout(WAIT_S)


def tearDownModule():
    if DRIVER:
        DRIVER.quit()
    for p in (CHROMEDRIVER, GW, DAEMON):
        if p and p.poll() is None:
            p.send_signal(signal.SIGTERM)
            p.wait(timeout=10)
    if TMP:
        shutil.rmtree(TMP, ignore_errors=True)


def open_page(query=""):
    DRIVER.get(BASE + query)
    if query:
        wait_ready()


def wait_ready():
    WebDriverWait(DRIVER, WAIT_S).until(
        lambda d: d.execute_script("return document.body.dataset.ready"))


def results():
    return DRIVER.find_elements(By.CSS_SELECTOR, "#results > li")


class PageTest(unittest.TestCase):
    def setUp(self):
        DRIVER.set_window_size(1280, 900)

    def test_search_shows_key_resp_06_first_and_a_five_level_grid(self):
        open_page()
        box = DRIVER.find_element(By.ID, "q")
        self.assertEqual(DRIVER.switch_to.active_element, box)
        box.send_keys("root cause analysis", Keys.ENTER)
        wait_ready()
        first = results()[0]
        self.assertEqual(first.get_attribute("data-id"), "5365/key-resp-06")
        self.assertEqual(first.get_attribute("data-level"), "1")
        meta = first.find_element(By.CLASS_NAME, "meta").text
        for part in ("Level 1", "Key Resp 06",
                     "Clinical Applications Professional 1-5 HX"):
            self.assertIn(part, meta)
        marks = [m.text.lower() for m in
                 first.find_elements(By.TAG_NAME, "mark")]
        self.assertIn("root cause analysis", marks)
        # The URL holds the query.
        q = urllib.parse.parse_qs(urllib.parse.urlparse(
            DRIVER.current_url).query)
        self.assertEqual(q["q"], ["root cause analysis"])
        # The ladder: a column per level, Key Resp 06 across all five,
        # the levels that match marked.
        heads = [th.text for th in DRIVER.find_elements(
            By.CSS_SELECTOR, "#ladder thead th")]
        self.assertEqual(heads, ["Row", "Level 1", "Level 2", "Level 3",
                                 "Level 4", "Level 5"])
        rows = DRIVER.find_elements(By.CSS_SELECTOR, "#ladder tbody tr")
        self.assertEqual(len(rows), 1)
        self.assertIn("Key Resp 06", rows[0].find_element(
            By.TAG_NAME, "th").text)
        cells = rows[0].find_elements(By.TAG_NAME, "td")
        self.assertEqual(len(cells), 5)
        hit = [c.get_attribute("data-level") for c in cells
               if "hit" in c.get_attribute("class").split()]
        self.assertEqual(hit, ["1", "2"])
        self.assertTrue(all(c.text for c in cells))
        shoot("web-1280.png")

    def test_filters_are_in_the_url_and_restrict(self):
        open_page("?q=root+cause+analysis")
        DRIVER.find_element(By.CSS_SELECTOR,
                            "#levels input[value='2']").send_keys(Keys.SPACE)
        WebDriverWait(DRIVER, WAIT_S).until(
            lambda d: "level=2" in d.current_url)
        wait_ready()
        WebDriverWait(DRIVER, WAIT_S).until(
            lambda d: results() and all(
                r.get_attribute("data-level") == "2" for r in results()))
        self.assertEqual(results()[0].get_attribute("data-id"),
                         "5366/key-resp-06")
        # A shared link gives the same page.
        url = DRIVER.current_url
        open_page("?" + urllib.parse.urlparse(url).query)
        self.assertTrue(DRIVER.find_element(
            By.CSS_SELECTOR, "#levels input[value='2']").is_selected())
        self.assertEqual(results()[0].get_attribute("data-id"),
                         "5366/key-resp-06")
        open_page("?q=root+cause+analysis&section=ksa")
        self.assertEqual(DRIVER.find_element(By.ID, "section")
                         .get_attribute("value"), "ksa")
        self.assertTrue(all("ksa" in r.get_attribute("data-id")
                            for r in results()), "not all KSA clauses")

    def test_a_row_opens_across_the_levels_from_the_keyboard(self):
        open_page("?q=root+cause+analysis")
        button = DRIVER.find_element(By.CSS_SELECTOR, "#ladder tbody th button")
        button.send_keys(Keys.ENTER)
        WebDriverWait(DRIVER, WAIT_S).until(
            lambda d: d.find_element(By.ID, "row-section").is_displayed())
        cells = DRIVER.find_elements(By.CSS_SELECTOR, "#row-cells > li")
        self.assertEqual([c.find_element(By.CLASS_NAME, "level").text
                          for c in cells],
                         ["Level %d" % n for n in range(1, 6)])
        self.assertEqual(DRIVER.switch_to.active_element.get_attribute("id"),
                         "row-heading")

    def test_every_control_is_labelled(self):
        open_page("?q=root+cause+analysis")
        unlabelled = DRIVER.execute_script("""
            const bad = [];
            for (const e of document.querySelectorAll(
                     'input, select, button, [tabindex]')) {
              const name = e.labels && e.labels.length ? e.labels[0].innerText
                : (e.getAttribute('aria-label') || e.innerText || '');
              if (!name.trim() && e.offsetParent !== null) bad.push(e.outerHTML);
            }
            return bad;""")
        self.assertEqual(unlabelled, [])
        self.assertEqual(DRIVER.find_element(By.ID, "status")
                         .get_attribute("aria-live"), "polite")

    def test_a_clause_with_markup_is_shown_as_text(self):
        open_page("?q=xsscanary")
        text = "\n".join(r.find_element(By.CLASS_NAME, "text").text
                         for r in results())
        self.assertIn("<script>window.__xss = 1</script>", text)
        self.assertIn('<img src=x onerror="window.__xss = 2">', text)
        self.assertIn("& <b>bold</b>", text)
        self.assertIsNone(DRIVER.execute_script(
            "return window.__xss === undefined ? null : window.__xss"))
        self.assertEqual(DRIVER.find_elements(
            By.CSS_SELECTOR, "main img, main script"), [])
        grid = DRIVER.find_element(By.ID, "ladder").text
        self.assertIn("<img src=x", grid)
        self.assertIsNone(DRIVER.execute_script(
            "return window.__xss === undefined ? null : window.__xss"))

    def test_narrow_screen(self):
        DRIVER.set_window_size(360, 800)
        open_page("?q=root+cause+analysis")
        # Nothing wider than the screen but the grid, which scrolls in
        # its own box.
        wide = DRIVER.execute_script("""
            const w = document.documentElement.clientWidth, out = [];
            for (const e of document.querySelectorAll('body *')) {
              if (e.closest('.scroll')) continue;
              const r = e.getBoundingClientRect();
              if (r.width && r.right > w + 1) out.push(e.tagName + '#' + e.id);
            }
            return out;""")
        self.assertEqual(wide, [])
        self.assertEqual(results()[0].get_attribute("data-id"),
                         "5365/key-resp-06")
        shoot("web-360.png")


def shoot(name):
    """A screenshot of the whole page at the window's width."""
    height = DRIVER.execute_script(
        "return document.documentElement.scrollHeight")
    width = DRIVER.get_window_size()["width"]
    DRIVER.set_window_size(width, min(max(height + 140, 600), 1500))
    png = DRIVER.get_screenshot_as_png()
    dirs = [OUT] + ([os.environ["SDX_SCREENSHOT_DIR"]]
                    if os.environ.get("SDX_SCREENSHOT_DIR") else [])
    for d in dirs:
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, name), "wb") as f:
            f.write(png)


if __name__ == "__main__":
    unittest.main(verbosity=2)
