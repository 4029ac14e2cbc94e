// The kiosk's only script: quick exit, history-free moves, idle reset and printing a slip, and
// the neutral welcome page's return to the kiosk.
(() => {
  "use strict";

  const body = document.body;
  const INTERACTIONS = ["pointerdown", "keydown", "touchstart", "wheel"];

  // The neutral page a quick exit leaves returns to the kiosk after a while without a touch,
  // replacing itself so that Back never leads to it (a person may have left in a hurry).
  if (body.classList.contains("welcome")) {
    let timer = 0;
    const wait = () => {
      clearTimeout(timer);
      timer = setTimeout(() => location.replace(body.dataset.return), body.dataset.wait * 1000);
    };
    for (const name of INTERACTIONS) {
      document.addEventListener(name, wait, { capture: true, passive: true });
    }
    const start = document.querySelector("a.start");
    start.addEventListener("click", (event) => {
      event.preventDefault();
      location.replace(start.href);
    });
    wait();
    return;
  }
  if (!body.classList.contains("kiosk")) return;

  // Shift pressed this many times within the window leaves at once, as GOV.UK's exit does.
  const SHIFT_PRESSES = 3;
  const SHIFT_WINDOW_MS = 5000;

  // Blank the screen first, then replace this history entry, so Back never shows it again.
  const leave = (url) => {
    document.documentElement.classList.add("exiting");
    document.title = "";
    body.replaceChildren();
    location.replace(url);
  };
  const quickExit = (event) => {
    event.preventDefault();
    leave(body.dataset.exit);
  };

  // A list holds as many entries as the screen has room for. Where the browser does not send
  // the screen's size itself (as client hints; only Chromium does), the size rides in each
  // address the kiosk follows, and a list page opened without it asks for itself again, once,
  // with it.
  const VIEW = "view";
  const withView = (href) => {
    if (body.dataset.view === "hints") return href;
    const url = new URL(href, location.href);
    url.searchParams.set(VIEW, `${innerWidth}x${innerHeight}`);
    return url.href;
  };
  if (body.dataset.view === "ask" && !new URLSearchParams(location.search).has(VIEW)) {
    location.replace(withView(location.href));
  }

  // Move inside the kiosk without adding to history: Back must not bring back what was read.
  document.addEventListener("click", (event) => {
    const link = event.target.closest("a[href]");
    if (!link) return;
    if (link.id === "exit") {
      quickExit(event);
    } else if (link.origin === location.origin) {
      event.preventDefault();
      location.replace(withView(link.href));
    }
  });

  // As GOV.UK's "Exit this page": each Shift press fills a dot on the Exit button and is
  // announced to screen readers, and the count lapses after a few seconds.
  const presses = document.getElementById("exit-presses");
  const status = document.getElementById("exit-status");
  let shifts = 0;
  let shiftTimer = 0;
  const showPresses = (count, said) => {
    presses.hidden = count === 0;
    presses.querySelectorAll(".press").forEach((dot, n) => dot.classList.toggle("on", n < count));
    status.textContent = said;
  };
  const SAY = ["", status.dataset.two, status.dataset.one];
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      quickExit(event);
      return;
    }
    if (event.key !== "Shift") {
      if (shifts) showPresses(0, "");
      shifts = 0;
      return;
    }
    if (event.repeat) return;
    shifts += 1;
    clearTimeout(shiftTimer);
    if (shifts >= SHIFT_PRESSES) {
      showPresses(SHIFT_PRESSES, status.dataset.done);
      quickExit(event);
      return;
    }
    showPresses(shifts, SAY[shifts]);
    shiftTimer = setTimeout(() => {
      shifts = 0;
      showPresses(0, status.dataset.expired);
    }, SHIFT_WINDOW_MS);
  });

  // A page brought back from the back-forward cache may show what someone read: leave it.
  window.addEventListener("pageshow", (event) => {
    if (event.persisted) leave(body.dataset.exit);
  });

  for (const button of document.querySelectorAll("[data-print]")) {
    button.addEventListener("click", () => window.print());
  }

  // The ZIP keypad: on-screen keys or the keyboard fill five digits; Search goes on without
  // adding to history. A partial code never leaves the page.
  const zipForm = document.getElementById("zip-form");
  if (zipForm) {
    const input = zipForm.elements.zip;
    const notice = document.getElementById("zip-notice");
    const echo = document.getElementById("zip-echo");
    const show = (digits) => {
      input.value = digits.replace(/[^0-9]/g, "").slice(0, 5);
      echo.textContent = input.value.split("").join(" ");
    };
    const press = (key) => {
      if (key === "delete") show(input.value.slice(0, -1));
      else show(input.value + key);
    };
    zipForm.addEventListener("click", (event) => {
      const key = event.target.closest("[data-key]");
      if (key) press(key.dataset.key);
    });
    input.addEventListener("input", () => show(input.value));
    // Digits typed on a keyboard go to the box wherever the focus was, and the focus follows
    // them there, so that Enter then searches.
    document.addEventListener("keydown", (event) => {
      if (event.target === input || event.ctrlKey || event.altKey || event.metaKey) return;
      if (/^[0-9]$/.test(event.key)) press(event.key);
      else if (event.key === "Backspace") press("delete");
      else return;
      event.preventDefault();
      input.focus();
    });
    zipForm.addEventListener("submit", (event) => {
      event.preventDefault();
      show(input.value);
      if (input.value.length !== 5) {
        notice.textContent = notice.dataset.digits;
        notice.hidden = false;
        return;
      }
      const query = new URLSearchParams(new FormData(zipForm));
      location.replace(withView(`${zipForm.action}?${query}`));
    });
  }

  // After a while without a touch, offer more time, then start over in the site's language.
  const idleSeconds = Number(body.dataset.idle);
  const dialog = document.getElementById("idle");
  if (!idleSeconds || !dialog) return;
  const count = document.getElementById("idle-count");
  const stay = document.getElementById("idle-stay");
  let idleTimer = 0;
  let tick = 0;

  const wait = () => {
    clearTimeout(idleTimer);
    idleTimer = setTimeout(warn, idleSeconds * 1000);
  };
  const warn = () => {
    let left = Number(body.dataset.countdown);
    count.textContent = left;
    dialog.hidden = false;
    stay.focus();
    tick = setInterval(() => {
      left -= 1;
      count.textContent = Math.max(left, 0);
      if (left <= 0) {
        clearInterval(tick);
        leave(body.dataset.reset);
      }
    }, 1000);
  };
  const stillHere = () => {
    clearInterval(tick);
    dialog.hidden = true;
    wait();
  };

  for (const name of INTERACTIONS) {
    document.addEventListener(name, stillHere, { capture: true, passive: true });
  }
  stay.addEventListener("click", stillHere);
  wait();
})();
