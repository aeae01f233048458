"""The web page in a real headless Chromium (Debian's, driven by Selenium through Debian's chromedriver) against
a real `asyncstt serve` with the real engine: a key pasted, jfk.wav chosen, progress shown, the transcript read,
the SRT downloaded; and an invalid key shown as the API's own message."""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

from tests.support.audio import encode, read_channels
from tests.support.serve import ServeProcess

pytestmark = [pytest.mark.acceptance, pytest.mark.slow]

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
WINDOW = (1280, 900)
#: Enough for the real engine to load and recognise 11 s of speech on a loaded machine.
RECOGNITION_TIMEOUT = 180.0
UI_TIMEOUT = 15.0
PHRASE = "ask not what your country can do for you"
#: The recording the page's recognition queues behind is jfk.wav this many times (33 s, under the
#: servers' 40 s limit), so that it is still running when the page first polls, a second after its submit:
#: jfk.wav alone was at times done by then.
BLOCKER_REPEATS = 3
#: Kept beside the test's temporary files; docs/page.png is a copy of one of them.
SCREENSHOT_NAME = "page.png"

#: Collects every text #state, #queue and #progress-text show, since a short recognition passes its stages
#: between two looks from the test.
WATCH_STATUS = """
window.seenStatus = [];
const watched = ["state", "queue", "progress-text"].map((id) => document.getElementById(id));
const note = () => window.seenStatus.push(watched.map((node) => node.hidden ? "" : node.textContent).join(" | "));
new MutationObserver(note).observe(document.getElementById("status"),
  {subtree: true, childList: true, characterData: true, attributes: true});
"""


@pytest.fixture(scope="module")
def page_server(serve_factory: Callable[..., ServeProcess]) -> ServeProcess:
    """One operation at a time, so that a recognition submitted behind another one waits in the queue."""
    return serve_factory(extra_env={"ASYNCSTT_EXECUTION__MAX_ACTIVE_OPERATIONS": "1"})


def submit_blocker(server: ServeProcess, reference: Path, folder: Path) -> str:
    """An operation submitted over the API, which the page's recognition then queues behind."""
    (samples,), rate = read_channels(reference)
    # Ogg Opus: as WAV it would be over the inline content limit.
    audio = encode(folder / "blocker.ogg", [np.tile(samples, BLOCKER_REPEATS)], rate, "opus")
    body = {
        "content": base64.b64encode(audio.read_bytes()).decode(),
        "recognitionModel": {"languageRestriction": {"languageCode": ["en-US"]}},
    }
    with server.client() as http:
        response = http.post("/stt/v3/recognizeFileAsync", json=body)
    assert response.status_code == 200, response.text
    operation_id: str = response.json()["id"]
    return operation_id


@pytest.fixture
def downloads(tmp_path: Path) -> Path:
    folder = tmp_path / "downloads"
    folder.mkdir()
    return folder


@pytest.fixture
def browser(downloads: Path) -> Iterator[WebDriver]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        # The tests may run as root, where Chromium's sandbox cannot start.
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
        "--lang=en-US",
    ):
        options.add_argument(argument)
    options.add_experimental_option(
        "prefs",
        {
            "download.default_directory": str(downloads),
            "download.prompt_for_download": False,
            "download.directory_upgrade": True,
        },
    )
    # The driver is Debian's, named explicitly, so Selenium never looks for (or downloads) one of its own.
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    # The window's size includes its frame; the screenshot is of the viewport, which is set exactly.
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": WINDOW[0], "height": WINDOW[1], "deviceScaleFactor": 1, "mobile": False},
    )
    driver.set_page_load_timeout(UI_TIMEOUT)
    driver.set_script_timeout(UI_TIMEOUT)
    try:
        yield driver
    finally:
        driver.quit()


def wait_for(driver: WebDriver, condition: Callable[[WebDriver], Any], timeout: float) -> Any:
    return WebDriverWait(driver, timeout, poll_frequency=0.2).until(condition)


def shown(driver: WebDriver, element_id: str) -> WebElement | None:
    element = driver.find_element(By.ID, element_id)
    return element if element.is_displayed() else None


def open_page(driver: WebDriver, server: ServeProcess, key: str) -> None:
    driver.get(server.url + "/")
    driver.find_element(By.ID, "api-key").send_keys(key)
    driver.execute_script(WATCH_STATUS)


def submit(driver: WebDriver, audio: Path) -> None:
    driver.find_element(By.ID, "file").send_keys(str(audio))
    assert driver.find_element(By.ID, "drop-text").text.startswith(audio.name)
    driver.find_element(By.ID, "submit").click()


def words(text: str) -> str:
    return " ".join(re.findall(r"[\w']+", text.lower()))


def downloaded(driver: WebDriver, folder: Path, name: str) -> Path:
    deadline = time.monotonic() + UI_TIMEOUT
    while time.monotonic() < deadline:
        path = folder / name
        if path.exists() and path.stat().st_size:
            return path
        time.sleep(0.2)
    error = driver.find_element(By.ID, "error").get_attribute("textContent")
    raise AssertionError(
        f"{name} was not downloaded ({sorted(folder.iterdir())}); the page says {error!r}"
    )


def test_a_file_is_recognised_and_its_subtitles_downloaded(
    browser: WebDriver,
    page_server: ServeProcess,
    reference_audio: Path,
    downloads: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    open_page(browser, page_server, page_server.api_key)
    assert browser.execute_script("return sessionStorage.getItem('asyncstt.apiKey')") == (
        page_server.api_key
    )
    submit_blocker(page_server, reference_audio / "jfk.wav", tmp_path_factory.mktemp("blocker"))
    browser.find_element(By.CSS_SELECTOR, "input[name=mode][value=deferred-general]").click()
    submit(browser, reference_audio / "jfk.wav")

    operation_id = wait_for(
        browser, lambda d: d.find_element(By.ID, "operation-id").text, UI_TIMEOUT
    )
    assert operation_id.startswith("f8d")
    wait_for(browser, lambda d: shown(d, "result"), RECOGNITION_TIMEOUT)

    seen: list[str] = browser.execute_script("return window.seenStatus")
    assert any(re.fullmatch(r"Queued \| position \d in the queue \| .*", s) for s in seen), seen
    assert any(s.startswith("Running") for s in seen), seen
    assert any(re.search(r"\d+\.\d s of 1\d\.\d s \(\d+ %\)", s) for s in seen), seen
    assert browser.find_element(By.ID, "state").text == "Done"
    assert browser.find_element(By.ID, "progress").get_attribute("value") == "1"
    assert not shown(browser, "error")

    transcript = browser.find_element(By.ID, "transcript")
    assert PHRASE in words(transcript.text)
    first = transcript.find_element(By.CSS_SELECTOR, ".utterance .time")
    assert re.fullmatch(r"00:0\d\.\d", first.text)
    assert shown(browser, "player")

    played = transcript.find_elements(By.CSS_SELECTOR, ".word")[3]
    played.click()
    start = float(played.get_attribute("data-start") or "nan")
    position = wait_for(
        browser,
        lambda d: d.execute_script(
            "const p = document.getElementById('player'); return p.currentTime >= arguments[0] && p.currentTime;",
            start,
        ),
        UI_TIMEOUT,
    )
    assert start <= position < start + 5

    browser.find_element(By.ID, "download-srt").click()
    srt = downloaded(browser, downloads, "jfk.srt").read_text()
    assert srt.startswith("1\n00:00:0"), srt[:200]
    assert re.search(r"^\d\d:\d\d:\d\d,\d{3} --> \d\d:\d\d:\d\d,\d{3}$", srt, re.MULTILINE), srt
    cue_text = [line for line in srt.splitlines() if line and not re.match(r"\d+$|\d\d:", line)]
    assert PHRASE in words(" ".join(cue_text)), srt

    browser.find_element(By.ID, "download-vtt").click()
    assert downloaded(browser, downloads, "jfk.vtt").read_text().startswith("WEBVTT")

    browser.find_element(By.ID, "download-txt").click()
    assert PHRASE in words(downloaded(browser, downloads, "jfk.txt").read_text())

    browser.find_element(By.ID, "download-json").click()
    lines = json.loads(downloaded(browser, downloads, "jfk.json").read_text())
    assert lines
    assert all(set(line) == {"result"} for line in lines)
    refined = [
        line["result"]["finalRefinement"] for line in lines if "finalRefinement" in line["result"]
    ]
    assert PHRASE in words(
        " ".join(r["normalizedText"]["alternatives"][0]["text"] for r in refined)
    )

    browser.execute_script(
        "document.getElementById('player').pause(); document.activeElement.blur(); window.scrollTo(0, 0)"
    )
    ActionChains(browser).move_to_element(browser.find_element(By.TAG_NAME, "h1")).perform()
    browser.save_screenshot(str(tmp_path_factory.mktemp("page") / SCREENSHOT_NAME))


def test_an_invalid_key_shows_the_apis_message(
    browser: WebDriver, page_server: ServeProcess, reference_audio: Path
) -> None:
    key = "AQVN-not-a-key-of-this-server"
    with page_server.client(key) as http:
        refused = http.post("/stt/v3/recognizeFileAsync", content=b"{}")
    assert refused.status_code == 401
    message = refused.json()["message"]
    assert message == "the API key is invalid, revoked or expired"

    open_page(browser, page_server, key)
    submit(browser, reference_audio / "jfk.wav")

    error = wait_for(browser, lambda d: shown(d, "error"), UI_TIMEOUT)
    assert error.text == message
    assert browser.find_element(By.ID, "state").text == "Stopped"
    assert not shown(browser, "result")
    assert browser.find_element(By.ID, "submit").is_enabled()


def test_the_page_loads_nothing_from_elsewhere(
    browser: WebDriver, page_server: ServeProcess
) -> None:
    browser.get(page_server.url + "/")
    loaded: list[str] = browser.execute_script(
        "return performance.getEntriesByType('resource').map((entry) => entry.name)"
    )
    assert loaded
    assert all(url.startswith(page_server.url + "/static/") for url in loaded), loaded
    assert (
        httpx.get(page_server.url + "/static/app.css")
        .headers["content-type"]
        .startswith("text/css")
    )
