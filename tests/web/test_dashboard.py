"""The operators' dashboard in a real headless browser (Debian's chromium via selenium)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import insert

from storage.models import DeliveryRow
from tests.web.conftest import ADMIN_KEY, Served


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver):
        # Like PostgreSQL: CI installs it (.ci/run) and must run this; a fresh clone without
        # a browser is told how to get one.
        if os.environ.get("CI"):
            pytest.fail("chromium and chromedriver are required in CI (.ci/run installs them)")
        pytest.skip("no chromium/chromedriver: apt-get install -y chromium chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(arg)
    with webdriver.Chrome(options=options, service=Service(executable_path=driver)) as chrome:
        yield chrome


def _rows(browser: webdriver.Chrome, table: str) -> list[list[str]]:
    return [
        [td.text for td in tr.find_elements(By.TAG_NAME, "td")]
        for tr in browser.find_elements(By.CSS_SELECTOR, f"#{table} tbody tr")
    ]


def test_the_dashboard_shows_stations_reactions_and_deliveries(
    api: Served, client: httpx.Client, browser: webdriver.Chrome
) -> None:
    first = client.post("/stations", json={"text": "cool jazz", "name": "Dashboard jazz"}).json()
    sid = first["station"]["id"]
    for card, reaction in zip(first["cards"], ("like", "like", "dislike"), strict=False):
        client.post(
            f"/stations/{sid}/feedback", json={"track": card["track"]["id"], "reaction": reaction}
        )
    code = client.post(f"/stations/{sid}/share").json()["code"]
    now = datetime.now(UTC)
    with api.world.engine.begin() as conn:
        for i, status in enumerate(("sent", "sent", "failed")):
            conn.execute(
                insert(DeliveryRow).values(
                    user_id=1,
                    kind="daily",
                    day=f"2026-11-2{i}",
                    status=status,
                    attempts=1,
                    due_at=now,
                )
            )

    browser.get(f"{api.url}/dashboard#key={ADMIN_KEY}")
    WebDriverWait(browser, 10).until(lambda b: b.find_elements(By.CSS_SELECTOR, "#ratios tbody tr"))
    assert browser.find_element(By.ID, "status").text.startswith("Updated")
    assert "key=" not in browser.current_url  # the key leaves the address bar at once
    ratios = {row[0]: row[1:] for row in _rows(browser, "ratios")}
    assert ratios["Dashboard jazz"] == ["2", "1", "67%"]
    assert "Dashboard jazz" in [row[0] for row in _rows(browser, "active")]
    assert [code] == [row[1] for row in _rows(browser, "shared") if row[0] == "Dashboard jazz"]
    deliveries = {(r[0], r[1]): r[2] for r in _rows(browser, "deliveries")}
    assert deliveries[("daily", "sent")] == "2" and deliveries[("daily", "failed")] == "1"
    assert int(browser.find_element(By.ID, "deliveries-failed").text) >= 1
    today = now.date().isoformat()
    days = {row[0]: row for row in _rows(browser, "reactions")}
    assert int(days[today][1]) >= 2 and int(days[today][3]) >= 1


def test_the_dashboard_asks_for_the_admin_key(api: Served, browser: webdriver.Chrome) -> None:
    browser.get(f"{api.url}/healthz")  # a fresh page on the origin: forget a remembered key
    browser.execute_script("sessionStorage.clear()")
    browser.get(f"{api.url}/dashboard#key=wrong")
    WebDriverWait(browser, 10).until(
        lambda b: "not the admin key" in b.find_element(By.ID, "status").text
    )
    assert browser.find_element(By.ID, "login").is_displayed()
    assert _rows(browser, "ratios") == []
    with api.client("wrong") as c:
        assert c.get("/dashboard/data").status_code == 401
