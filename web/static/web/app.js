/*
 * The behaviour of the web pages: one function per page, chosen by <body data-page="...">.
 *
 * Every page calls the same-origin JSON API under /user/, as any other client would, and shows what
 * it answers: the `fields` of an error ({"detail", "code", "fields"}) next to their fields, anything
 * else in the aria-live notice of the form's card (#notice on a page with one card).
 *
 * Where the tokens live: sessionStorage, never localStorage. The flow spans several pages, so a token
 * held only in memory would be lost at each navigation. sessionStorage belongs to this tab and this
 * origin, is emptied when the tab closes, is not shared with other tabs and is never sent to the
 * server by itself (so cookies-style CSRF does not apply); localStorage would keep a refresh token on
 * disk for days. Script on this origin can still read it, so the pages run only their own scripts
 * (see the Content-Security-Policy in web/views.py).
 *
 * Every word the pages show comes through Django's JavaScript catalog (/jsi18n/, loaded before this
 * module): gettext, ngettext for anything counted, and interpolate with %(name)s for what varies, so a
 * translator always sees a whole sentence. Only double-quoted strings go into those calls: that is what
 * makemessages (xgettext) reads.
 */

// The page's language (<html lang>): the API answers in it and dates are written in it.
const LANGUAGE = document.documentElement.lang;

const API = {
  signup: "/user/signup/",
  verify: "/user/verify/",
  newVerify: "/user/new-verify/",
  deliveryStatus: "/user/delivery-status/",
  profile: "/user/change-user-info/",
  me: "/user/me/",
  login: "/user/login/",
  logout: "/user/logout/",
  logoutAll: "/user/logout-all/",
  refresh: "/user/login-refresh/",
  sessions: "/user/sessions/",
  passwordReset: "/user/password-reset/",
  passwordResetNewCode: "/user/password-reset/new-code/",
  passwordResetConfirm: "/user/password-reset/confirm/",
  loginCode: "/user/login-code/",
  loginCodeConfirm: "/user/login-code/confirm/",
  changeIdentifier: "/user/change-identifier/",
  changeIdentifierConfirm: "/user/change-identifier/confirm/",
};

const PAGES = {
  signup: "/signup/",
  verify: "/verify/",
  profile: "/profile/",
  login: "/login/",
  account: "/account/",
  passwordReset: "/password-reset/",
  passwordResetConfirm: "/password-reset/confirm/",
  loginCode: "/login-code/",
  loginCodeConfirm: "/login-code/confirm/",
};

// sessionStorage keys: "signup" {token, identifier}, "verified" (token), "reset" {token, identifier},
// "loginCode" {token, userInput}, "session" {access, refresh, userInput}, the resend countdowns
// "resendAt", "resetResendAt", "loginCodeResendAt" and "identifierResendAt" (ms), and "flash"
// {message, kind, userInput} for the next page.
const store = {
  get(key) {
    try {
      return JSON.parse(sessionStorage.getItem(key));
    } catch {
      return null;
    }
  },
  set(key, value) {
    sessionStorage.setItem(key, JSON.stringify(value));
  },
  remove(...keys) {
    for (const key of keys) sessionStorage.removeItem(key);
  },
};

/** Calls the API; never throws. Returns {ok, status, data, retryAfter}; on failure `data` has the error shape. */
async function call(method, path, { body, token } = {}) {
  // Accept-Language, since no cookie (so not the language switcher's) goes with these requests.
  const headers = { Accept: "application/json", "Accept-Language": LANGUAGE };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "omit", // the API reads bearer tokens only; no cookie rides along
    });
  } catch {
    return failure(0, gettext("We could not reach the server. Check your connection and try again."));
  }
  const data = await response.json().catch(() => null);
  const seconds = Number.parseInt(response.headers.get("Retry-After") ?? "", 10);
  const retryAfter = Number.isFinite(seconds) ? seconds : null;
  if (!response.ok && typeof data?.detail !== "string") {
    const message = gettext("Something went wrong (%(status)s). Please try again.");
    return failure(response.status, interpolate(message, { status: response.status }, true));
  }
  return { ok: response.ok, status: response.status, data: data ?? {}, retryAfter };
}

function failure(status, detail) {
  return { ok: false, status, data: { detail, code: "unexpected", fields: {} }, retryAfter: null };
}

/**
 * A sentence about a wait: in seconds under a minute, else in whole minutes rounded up. `inSeconds` and
 * `inMinutes` give the sentence for a count (their ngettext), which has a %(count)s.
 */
function waiting(seconds, inSeconds, inMinutes) {
  const [count, sentence] = seconds < 60 ? [seconds, inSeconds] : [Math.ceil(seconds / 60), inMinutes];
  return interpolate(sentence(count), { count }, true);
}

/** "Try again in 30 seconds.", after a 429's Retry-After. */
const tryAgainIn = (seconds) =>
  waiting(
    seconds,
    (n) => ngettext("Try again in %(count)s second.", "Try again in %(count)s seconds.", n),
    (n) => ngettext("Try again in %(count)s minute.", "Try again in %(count)s minutes.", n),
  );

/** "You can ask for a new code in 30 seconds.", when a resend comes too soon. */
const newCodeIn = (seconds) =>
  waiting(
    seconds,
    (n) =>
      ngettext(
        "You can ask for a new code in %(count)s second.",
        "You can ask for a new code in %(count)s seconds.",
        n,
      ),
    (n) =>
      ngettext(
        "You can ask for a new code in %(count)s minute.",
        "You can ask for a new code in %(count)s minutes.",
        n,
      ),
  );

/** The notice that speaks for `element`: its card's, or the page's #notice. */
function noticeOf(element) {
  return element?.closest("section")?.querySelector(".notice") ?? document.getElementById("notice");
}

/** Puts a message in an aria-live notice (the page's by default); kind is "error", "success" or "info". */
function notify(message, kind = "error", notice = document.getElementById("notice")) {
  if (!notice) return;
  notice.dataset.kind = kind;
  notice.textContent = message;
}

/** Leaves a message for the next page (shown by showFlash), e.g. "You are logged out." */
function flash(message, kind = "success", extra = {}) {
  store.set("flash", { message, kind, ...extra });
}

function showFlash() {
  const message = store.get("flash");
  store.remove("flash");
  if (message) notify(message.message, message.kind);
  return message;
}

function clearErrors(form) {
  for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
  for (const slot of form.querySelectorAll(".field-error")) slot.textContent = "";
  notify("", "error", noticeOf(form));
}

/** Shows an API error: each field's messages under that field, the rest in the form's notice. */
function showError(form, answer) {
  const { detail, fields = {} } = answer.data;
  const elsewhere = [];
  const marked = [];
  for (const [name, messages] of Object.entries(fields)) {
    const input = form.elements.namedItem(name);
    const slot = input?.closest?.(".field")?.querySelector(".field-error");
    if (slot) {
      input.setAttribute("aria-invalid", "true");
      slot.textContent = messages.join(" ");
      marked.push(input);
    } else {
      elsewhere.push(...messages);
    }
  }
  let message = elsewhere.join(" ") || (marked.length ? "" : detail);
  if (marked.length && !message) {
    const count = marked.length;
    message = interpolate(
      ngettext("Check the highlighted field.", "Check the %(count)s highlighted fields.", count),
      { count },
      true,
    );
  }
  // A 429's detail already says how long to wait, in the reader's language; other waits are added.
  if (answer.retryAfter && answer.status !== 429) message += ` ${tryAgainIn(answer.retryAfter)}`;
  notify(message.trim(), "error", noticeOf(form));
  // The first field in the form's order, whatever the order of the answer's fields.
  [...form.elements].find((element) => marked.includes(element))?.focus();
}

/** Runs `work` with the form's submit button disabled and saying what is happening. */
async function busy(form, label, work) {
  const button = form.querySelector("[type=submit]");
  const idle = button.textContent;
  button.disabled = true;
  button.textContent = label;
  form.setAttribute("aria-busy", "true");
  try {
    return await work();
  } finally {
    button.disabled = false;
    button.textContent = idle;
    form.removeAttribute("aria-busy");
  }
}

/** Shows the `[data-state=name]` blocks of the page and hides the others. */
function showState(name) {
  for (const block of document.querySelectorAll("[data-state]")) block.hidden = block.dataset.state !== name;
}

function bind(name, value, root = document) {
  for (const element of root.querySelectorAll(`[data-bind="${name}"]`)) element.textContent = value;
}

/** A code field takes digits only, and no more than a code has: a pasted "123 456" still fits. */
function codeField(input) {
  input.addEventListener("input", () => {
    input.value = input.value.replace(/\D/g, "").slice(0, Number(input.dataset.length));
  });
  return input;
}

/**
 * A "Send a new code" button. The server decides when another code may go out (Retry-After on a
 * 429, retry_after on success); the button counts down from that, and the count, kept under `key`,
 * survives a reload of the page. `request()` asks for the code; a 401 calls `expired()`. While it
 * counts, the button says the whole sentence ("Send a new code in 42 s"), not its label plus a tail.
 */
function resendButton(button, { key, request, expired, sent = () => {} }) {
  const idleLabel = button.textContent;
  const notice = noticeOf(button);
  let countdown;
  const tick = () => {
    clearTimeout(countdown);
    const left = Math.ceil(((store.get(key) ?? 0) - Date.now()) / 1000);
    if (left > 0) {
      button.setAttribute("aria-disabled", "true");
      button.textContent = interpolate(
        ngettext("Send a new code in %(count)s s", "Send a new code in %(count)s s", left),
        { count: left },
        true,
      );
      countdown = setTimeout(tick, 1000);
    } else {
      button.removeAttribute("aria-disabled");
      button.textContent = idleLabel;
      store.remove(key);
    }
  };
  const waitFor = (seconds) => {
    store.set(key, Date.now() + seconds * 1000);
    tick();
  };
  button.addEventListener("click", async () => {
    // aria-disabled rather than disabled, so the button keeps the keyboard focus while counting.
    if (button.getAttribute("aria-disabled") === "true") return;
    button.setAttribute("aria-disabled", "true");
    const answer = await request();
    button.removeAttribute("aria-disabled");
    if (answer.status === 401) return expired();
    if (answer.ok) {
      notify(answer.data.detail, "success", notice);
      waitFor(answer.data.retry_after);
      sent();
    } else if (answer.status === 429 && answer.retryAfter) {
      notify(newCodeIn(answer.retryAfter), "info", notice);
      waitFor(answer.retryAfter);
    } else {
      notify(answer.data.detail, "error", notice);
    }
  });
  tick();
  return { waitFor };
}

/** A flow token (sign-up, reset, login code) expired or was refused: back to its start, with a word of why. */
function restart(keys, message, page) {
  store.remove(...keys);
  flash(message, "info");
  location.assign(page);
}

const restartSignup = () =>
  restart(
    ["signup", "verified", "resendAt"],
    gettext("Your sign-up has expired. Enter your e-mail address or phone number again for a new code."),
    PAGES.signup,
  );

/** A JWT's claims, for display only: the server checks the signature, the page just reads them. */
function claims(token) {
  try {
    return JSON.parse(atob(token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
  } catch {
    return {};
  }
}

/**
 * The logged-in session of this tab, or null. The access token lives minutes, the refresh token
 * days: `authorized(request)` runs request(tokens) and, after a 401, rotates the pair and tries once
 * more. Callers that held the same pair share that one rotation, because sending a rotated refresh
 * token again counts as theft and ends the session.
 */
function loggedIn({ rotated = () => {} } = {}) {
  let session = store.get("session");
  if (!session) return null;
  let rotation = { from: null, answer: null };
  const rotate = (used) => {
    if (rotation.from !== used.refresh) {
      const answer = call("POST", API.refresh, { body: { refresh: used.refresh } }).then((fresh) => {
        if (fresh.ok) {
          session = { ...session, access: fresh.data.access, refresh: fresh.data.refresh };
          store.set("session", session);
          rotated(session);
        }
        return fresh;
      });
      rotation = { from: used.refresh, answer };
    }
    return rotation.answer;
  };
  return {
    get tokens() {
      return session;
    },
    /** Runs request(tokens), rotating the pair once after a 401; a 401 it returns means the session is over. */
    async authorized(request) {
      const used = session;
      const answer = await request(used);
      if (answer.status !== 401) return answer;
      const fresh = await rotate(used);
      if (fresh.ok) return request(session);
      // A refused refresh token leaves the 401 standing; a lost connection, a 429 or a 5xx says
      // nothing about the tokens, so that is what the caller sees, and the session is kept.
      const refused = fresh.status >= 400 && fresh.status < 500 && fresh.status !== 429;
      return refused ? answer : fresh;
    },
    remember(changes) {
      session = { ...session, ...changes };
      store.set("session", session);
    },
    /** Forgets the session and goes to `page` with a message. */
    leave(message, { kind = "success", page = PAGES.login, replace = false } = {}) {
      store.remove("session", "identifierResendAt");
      flash(message, kind, { userInput: session.userInput });
      if (replace) location.replace(page);
      else location.assign(page);
    },
  };
}

/** The blocks of a card marked [data-view] take turns; `open` and `close` buttons switch between them. */
function views(card) {
  const show = (name, focus) => {
    for (const view of card.querySelectorAll("[data-view]")) view.hidden = view.dataset.view !== name;
    (focus ?? card.querySelector(`[data-view="${name}"]`).querySelector("input, select, textarea"))?.focus();
  };
  return {
    show,
    /** Back to the facts: focus returns to the button that opened the form, or to the card's heading. */
    close(from) {
      for (const form of card.querySelectorAll("form")) clearErrors(form);
      const opener = card.querySelector(`[data-open="${from}"]`) ?? card.querySelector("h2");
      show("facts", opener);
    },
  };
}

/** "Chrome on Linux" from a User-Agent header; the header itself when it says neither. */
function deviceName(userAgent) {
  const find = (table) => table.find(([marker]) => userAgent.includes(marker))?.[1];
  const browser = find([
    ["Edg/", "Edge"],
    ["OPR/", "Opera"],
    ["Firefox/", "Firefox"],
    ["Chrome/", "Chrome"],
    ["Safari/", "Safari"],
    ["curl/", "curl"],
    ["python-requests/", "Python requests"],
  ]);
  const system = find([
    ["Windows", "Windows"],
    ["iPhone", "iPhone"],
    ["iPad", "iPad"],
    ["Android", "Android"],
    ["Mac OS X", "macOS"],
    ["CrOS", "ChromeOS"],
    ["Linux", "Linux"],
  ]);
  // Translators: a browser and its system, such as "Chrome on Linux".
  if (browser && system) return interpolate(gettext("%(browser)s on %(system)s"), { browser, system }, true);
  return browser ?? system ?? (userAgent.slice(0, 60) || gettext("Unknown device"));
}

const GENDERS = {
  female: gettext("Female"),
  male: gettext("Male"),
  other: pgettext("gender", "Other"),
  unspecified: gettext("Prefer not to say"),
};
// In the page's language, like the words around them ("" would throw: then the browser's own).
const DATES = new Intl.DateTimeFormat(LANGUAGE || undefined, { dateStyle: "medium", timeStyle: "short" });
const RELATIVE = new Intl.RelativeTimeFormat(LANGUAGE || undefined, { numeric: "auto" });

/** "just now", "5 minutes ago", "2 hours ago", "3 days ago". */
function ago(date) {
  const minutes = Math.round((Date.now() - date) / 60_000);
  if (minutes < 1) return gettext("just now");
  if (minutes < 60) return RELATIVE.format(-minutes, "minute");
  const hours = Math.round(minutes / 60);
  if (hours < 24) return RELATIVE.format(-hours, "hour");
  return RELATIVE.format(-Math.round(hours / 24), "day");
}

/** The cards of the account page, each given the logged-in session. */
const accountCards = {
  /** The facts of GET /user/me/ (profile and identifiers); returns the profile, or null when the session is over. */
  async load(auth) {
    const answer = await auth.authorized(({ access }) => call("GET", API.me, { token: access }));
    if (answer.status === 401) return null;
    document.getElementById("profile").removeAttribute("aria-busy");
    if (!answer.ok) {
      const wait = answer.retryAfter && answer.status !== 429 ? ` ${tryAgainIn(answer.retryAfter)}` : "";
      bind("username", auth.tokens.userInput);
      notify(`${answer.data.detail}${wait}`, "error");
      return {};
    }
    accountCards.show(answer.data);
    return answer.data;
  },

  show(profile) {
    bind("username", profile.username ?? "");
    const shown = { ...profile, gender: GENDERS[profile.gender] ?? profile.gender };
    // E-mail or phone number: whichever the account has. Optional details only when set.
    for (const name of ["first_name", "email", "phone_number", "bio", "gender"]) {
      document.querySelector(`[data-row="${name}"]`).hidden = !shown[name];
      bind(name, shown[name] ?? "");
    }
  },

  profile(auth, profile) {
    const card = document.getElementById("profile-card");
    const form = document.getElementById("profile-form");
    const view = views(card);
    card.querySelector("[data-open=edit]").addEventListener("click", () => {
      for (const name of ["first_name", "username", "bio", "gender"]) form.elements[name].value = profile[name] ?? "";
      notify("", "error", noticeOf(form));
      view.show("edit");
    });
    form.querySelector("[data-close]").addEventListener("click", () => view.close("edit"));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearErrors(form);
      // Every field is sent: an emptied optional one is cleared.
      const body = Object.fromEntries(new FormData(form));
      body.username = body.username.trim();
      const answer = await busy(form, gettext("Saving…"), () =>
        auth.authorized(({ access }) => call("PATCH", API.me, { token: access, body })),
      );
      if (answer.status === 401) return auth.leave(gettext("Your session has ended. Log in again."), { kind: "info" });
      if (!answer.ok) return showError(form, answer);
      profile = answer.data;
      accountCards.show(profile);
      view.close("edit");
      notify(gettext("Your profile has been saved."), "success", noticeOf(form));
    });
  },

  identifier(auth, profile) {
    const card = document.getElementById("login-card");
    const form = document.getElementById("identifier-form");
    const codeForm = document.getElementById("identifier-code-form");
    const view = views(card);
    const input = codeField(codeForm.elements.code);
    // The resend repeats the request, so the address and the password are kept for that, in memory only.
    let pending = null;
    const request = () =>
      auth.authorized(({ access }) => call("POST", API.changeIdentifier, { token: access, body: pending }));
    const ended = () => auth.leave(gettext("Your session has ended. Log in again."), { kind: "info" });
    const resend = resendButton(document.getElementById("identifier-resend"), {
      key: "identifierResendAt",
      request,
      expired: ended,
    });
    const close = () => {
      pending = null;
      form.reset();
      codeForm.reset();
      view.close("identifier");
    };

    card.querySelector("[data-open=identifier]").addEventListener("click", () => {
      notify("", "error", noticeOf(form));
      view.show("identifier");
    });
    form.querySelector("[data-close]").addEventListener("click", close);
    codeForm.querySelector("[data-close]").addEventListener("click", close);

    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearErrors(form);
      pending = { email_phone_number: form.elements.email_phone_number.value.trim(), password: form.elements.password.value };
      const answer = await busy(form, gettext("Sending your code…"), request);
      if (answer.status === 401) return ended();
      if (!answer.ok) {
        pending = null;
        return showError(form, answer);
      }
      bind("pending", pending.email_phone_number, card);
      form.elements.password.value = "";
      resend.waitFor(answer.data.retry_after);
      view.show("identifier-code");
    });

    codeForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearErrors(codeForm);
      const body = { code: input.value.trim() };
      const answer = await busy(codeForm, gettext("Checking…"), () =>
        auth.authorized(({ access }) => call("POST", API.changeIdentifierConfirm, { token: access, body })),
      );
      if (answer.status === 401) return ended();
      if (!answer.ok) return showError(codeForm, answer);
      const changed = pending.email_phone_number;
      Object.assign(profile, answer.data);
      accountCards.show(profile);
      // The old address or number no longer logs in: the next log-in page offers the username.
      auth.remember({ userInput: profile.username });
      store.remove("identifierResendAt");
      close();
      const done = interpolate(gettext("Done: you now log in with %(changed)s."), { changed }, true);
      notify(done, "success", noticeOf(form));
    });
  },

  password(auth) {
    const card = document.getElementById("login-card");
    const form = document.getElementById("password-form");
    const view = views(card);
    card.querySelector("[data-open=password]").addEventListener("click", () => {
      notify("", "error", noticeOf(form));
      view.show("password");
    });
    form.querySelector("[data-close]").addEventListener("click", () => {
      form.reset();
      view.close("password");
    });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearErrors(form);
      const body = Object.fromEntries(new FormData(form));
      const answer = await busy(form, gettext("Changing…"), () =>
        auth.authorized(({ access }) => call("PATCH", API.me, { token: access, body })),
      );
      if (answer.status === 401) return auth.leave(gettext("Your session has ended. Log in again."), { kind: "info" });
      if (!answer.ok) return showError(form, answer);
      // The server ended every session, this one too.
      auth.leave(gettext("Your password has been changed. Log in with the new one."));
    });
  },

  sessions(auth) {
    const list = document.getElementById("sessions");
    const row = document.getElementById("session-row");
    const notice = noticeOf(list);
    const render = (sessions) => {
      list.replaceChildren();
      for (const session of sessions) {
        const item = row.content.firstElementChild.cloneNode(true);
        const device = deviceName(session.user_agent ?? "");
        const method =
          session.method === "code" ? gettext("Logged in with a code") : gettext("Logged in with a password");
        const since = DATES.format(new Date(session.created_at));
        item.querySelector(".session-device").textContent = device;
        item.querySelector("[data-method]").textContent = [method, session.client].filter(Boolean).join(" · ");
        // Translators: "active" is followed by "just now" or a time such as "5 minutes ago".
        const times = gettext("Since %(since)s · active %(ago)s");
        item.querySelector("[data-times]").textContent = interpolate(
          times,
          { since, ago: ago(new Date(session.last_used_at)) },
          true,
        );
        const end = item.querySelector("[data-end]");
        if (session.current) {
          // This tab's session ends with "Log out", below the list.
          item.dataset.current = "";
          end.remove();
        } else {
          item.querySelector(".badge").remove();
          const label = gettext("End the session of %(device)s, since %(since)s");
          item.querySelector("[data-end-label]").textContent = interpolate(label, { device, since }, true);
          end.addEventListener("click", () => endOne(session, item, device));
        }
        list.append(item);
      }
    };
    const endOne = async (session, item, device) => {
      const button = item.querySelector("[data-end]");
      button.disabled = true;
      const answer = await auth.authorized(({ access }) =>
        call("DELETE", `${API.sessions}${session.id}/`, { token: access }),
      );
      if (answer.status === 401) return auth.leave(gettext("Your session has ended. Log in again."), { kind: "info" });
      if (!answer.ok && answer.status !== 404) {
        button.disabled = false;
        return notify(answer.data.detail, "error", notice);
      }
      // Focus moves on to the next session's button (or the card's heading) rather than being lost.
      const next = item.nextElementSibling?.querySelector("[data-end]") ?? document.getElementById("sessions-title");
      item.remove();
      next.focus();
      const message = answer.ok
        ? interpolate(gettext("Ended the session of %(device)s."), { device }, true)
        : gettext("That session had already ended.");
      notify(message, "success", notice);
    };
    const load = async () => {
      const answer = await auth.authorized(({ access }) => call("GET", API.sessions, { token: access }));
      list.removeAttribute("aria-busy");
      if (answer.status === 401) return;
      if (!answer.ok) return notify(answer.data.detail, "error", notice);
      render(answer.data);
    };
    load();

    const logout = document.getElementById("logout");
    logout.addEventListener("click", async () => {
      logout.disabled = true;
      notify("", "error", notice);
      const answer = await auth.authorized(({ access, refresh }) =>
        call("POST", API.logout, { token: access, body: { refresh } }),
      );
      logout.disabled = false;
      // 401 means the tokens are already dead: forgetting them is all that is left to do.
      if (!answer.ok && answer.status !== 401) return notify(answer.data.detail, "error", notice);
      auth.leave(gettext("You are logged out."));
    });

    const everywhere = document.getElementById("logout-all");
    everywhere.addEventListener("click", async () => {
      everywhere.disabled = true;
      notify("", "error", notice);
      const answer = await auth.authorized(({ access }) => call("POST", API.logoutAll, { token: access }));
      everywhere.disabled = false;
      if (!answer.ok && answer.status !== 401) return notify(answer.data.detail, "error", notice);
      auth.leave(gettext("You are logged out everywhere: on this device and every other."));
    });
  },

  remove(auth) {
    const card = document.getElementById("delete-card");
    const form = document.getElementById("delete-form");
    const view = views(card);
    card.querySelector("[data-open=confirm]").addEventListener("click", () => view.show("confirm"));
    form.querySelector("[data-close]").addEventListener("click", () => {
      form.reset();
      view.close("confirm");
    });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearErrors(form);
      const body = { password: form.elements.password.value };
      const answer = await busy(form, gettext("Deleting…"), () =>
        auth.authorized(({ access }) => call("DELETE", API.me, { token: access, body })),
      );
      if (answer.status === 401) return auth.leave(gettext("Your session has ended. Log in again."), { kind: "info" });
      if (!answer.ok) {
        form.elements.password.value = "";
        return showError(form, answer);
      }
      auth.leave(gettext("Your account has been deleted. Thank you for trying us."), { page: PAGES.signup });
    });
  },
};

const pages = {
  home() {},

  signup() {
    showFlash();
    const form = document.getElementById("signup-form");
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearErrors(form);
      const identifier = form.elements.email_phone_number.value.trim();
      const answer = await busy(form, gettext("Sending your code…"), () =>
        call("POST", API.signup, { body: { email_phone_number: identifier } }),
      );
      if (!answer.ok) return showError(form, answer);
      store.remove("verified", "resendAt");
      store.set("signup", { token: answer.data.access, identifier });
      location.assign(PAGES.verify);
    });
  },

  verify() {
    const signup = store.get("signup");
    if (!signup) return showState("missing");
    showState("ready");
    showFlash();
    bind("identifier", signup.identifier);

    const form = document.getElementById("verify-form");
    const input = codeField(form.elements.code);
    // WebOTP: Android Chrome offers the code of an SMS that ends with "@<this domain> #<code>".
    const webOtp = new AbortController();
    if ("OTPCredential" in window) {
      navigator.credentials
        .get({ otp: { transport: ["sms"] }, signal: webOtp.signal })
        .then((otp) => {
          input.value = otp.code;
          form.requestSubmit();
        })
        .catch(() => {}); // dismissed, aborted or unsupported: the person types the code
    }
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearErrors(form);
      const code = input.value.trim();
      const answer = await busy(form, gettext("Checking…"), () =>
        call("POST", API.verify, { token: signup.token, body: { code } }),
      );
      if (answer.status === 401) return restartSignup();
      if (!answer.ok) return showError(form, answer);
      webOtp.abort();
      store.set("verified", answer.data.access);
      store.remove("resendAt");
      location.assign(PAGES.profile);
    });

    resendButton(document.getElementById("resend"), {
      key: "resendAt",
      request: () => call("GET", API.newVerify, { token: signup.token }),
      expired: restartSignup,
      sent: () => watchDelivery(),
    });

    // Delivery status: polled while the code is on its way. A 404 means no record (yet, or a server
    // without this endpoint); the panel then stays hidden and the page works without it.
    const panel = document.getElementById("delivery");
    const labels = {
      queued: pgettext("delivery status", "Sending"),
      sent: pgettext("delivery status", "Sent"),
      delivered: pgettext("delivery status", "Delivered"),
      failed: pgettext("delivery status", "Failed"),
      undelivered: pgettext("delivery status", "Not delivered"),
    };
    let polling;
    const watchDelivery = async (round = 0) => {
      clearTimeout(polling);
      const answer = await call("GET", API.deliveryStatus, { token: signup.token });
      if (answer.ok) {
        const { channel, recipient, status, attempts, detail } = answer.data;
        const badge = document.getElementById("delivery-badge");
        badge.textContent = labels[status] ?? status;
        badge.dataset.status = status;
        const to = channel === "sms" ? gettext("SMS to %(recipient)s") : gettext("E-mail to %(recipient)s");
        document.getElementById("delivery-recipient").textContent = interpolate(to, { recipient }, true);
        // `detail` is the server's sentence, already in the page's language.
        const tries = ngettext("%(detail)s (%(count)s attempt)", "%(detail)s (%(count)s attempts)", attempts);
        document.getElementById("delivery-detail").textContent =
          attempts > 1 ? interpolate(tries, { detail, count: attempts }, true) : detail;
        panel.hidden = false;
        // An SMS can still turn "delivered" or "undelivered" after "sent"; an e-mail stops at "sent".
        const moving = status === "queued" || (status === "sent" && channel === "sms");
        if (moving && round < 20) polling = setTimeout(() => watchDelivery(round + 1), 3000);
      } else if (answer.status === 404 && round < 2) {
        polling = setTimeout(() => watchDelivery(round + 1), 2000);
      }
    };
    watchDelivery();
  },

  profile() {
    const token = store.get("verified");
    if (!token) return showState("missing");
    showState("ready");
    const form = document.getElementById("profile-form");
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearErrors(form);
      const body = Object.fromEntries(new FormData(form));
      // Optional fields left empty are not sent, rather than sent blank.
      for (const name of ["first_name", "bio", "gender"]) if (!body[name].trim()) delete body[name];
      const answer = await busy(form, gettext("Saving…"), () => call("PATCH", API.profile, { token, body }));
      if (answer.status === 401) return restartSignup();
      if (!answer.ok) return showError(form, answer);
      store.remove("signup", "verified", "resendAt");
      const ready = gettext("Your account is ready. Log in with your new password.");
      flash(ready, "success", { userInput: answer.data.username });
      location.assign(PAGES.login);
    });
  },

  login() {
    const form = document.getElementById("login-form");
    const message = showFlash();
    if (message?.userInput) {
      form.elements.user_input.value = message.userInput;
      form.elements.password.focus();
    }
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearErrors(form);
      const userInput = form.elements.user_input.value.trim();
      const body = { user_input: userInput, password: form.elements.password.value };
      const answer = await busy(form, gettext("Logging in…"), () => call("POST", API.login, { body }));
      if (!answer.ok) {
        form.elements.password.value = "";
        return showError(form, answer);
      }
      store.set("session", { access: answer.data.access, refresh: answer.data.refresh, userInput });
      location.assign(PAGES.account);
    });
  },

  password_reset() {
    showFlash();
    const form = document.getElementById("password-reset-form");
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearErrors(form);
      const identifier = form.elements.email_phone_number.value.trim();
      const answer = await busy(form, gettext("Sending your code…"), () =>
        call("POST", API.passwordReset, { body: { email_phone_number: identifier } }),
      );
      if (!answer.ok) return showError(form, answer);
      store.remove("resetResendAt");
      store.set("reset", { token: answer.data.access, identifier });
      location.assign(PAGES.passwordResetConfirm);
    });
  },

  password_reset_confirm() {
    const reset = store.get("reset");
    if (!reset) return showState("missing");
    showState("ready");
    showFlash();
    bind("identifier", reset.identifier);
    const expired = () =>
      restart(
        ["reset", "resetResendAt"],
        gettext("Your password reset has expired. Enter your e-mail address or phone number again for a new code."),
        PAGES.passwordReset,
      );

    const form = document.getElementById("password-reset-confirm-form");
    const input = codeField(form.elements.code);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearErrors(form);
      const body = { ...Object.fromEntries(new FormData(form)), code: input.value.trim() };
      const answer = await busy(form, gettext("Saving…"), () =>
        call("POST", API.passwordResetConfirm, { token: reset.token, body }),
      );
      if (answer.status === 401) return expired();
      if (!answer.ok) return showError(form, answer);
      store.remove("reset", "resetResendAt");
      flash(answer.data.detail, "success", { userInput: reset.identifier });
      location.assign(PAGES.login);
    });

    resendButton(document.getElementById("resend"), {
      key: "resetResendAt",
      request: () => call("GET", API.passwordResetNewCode, { token: reset.token }),
      expired,
    });
  },

  login_code() {
    showFlash();
    const form = document.getElementById("login-code-form");
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearErrors(form);
      const userInput = form.elements.user_input.value.trim();
      const answer = await busy(form, gettext("Sending your code…"), () =>
        call("POST", API.loginCode, { body: { user_input: userInput } }),
      );
      if (!answer.ok) return showError(form, answer);
      // A code just went out (or the last one is still in its cooldown): the next may go in a minute.
      store.set("loginCodeResendAt", Date.now() + Number(form.dataset.cooldown) * 1000);
      store.set("loginCode", { token: answer.data.access, userInput });
      location.assign(PAGES.loginCodeConfirm);
    });
  },

  login_code_confirm() {
    let pending = store.get("loginCode");
    if (!pending) return showState("missing");
    showState("ready");
    showFlash();
    bind("user_input", pending.userInput);
    const expired = () =>
      restart(
        ["loginCode", "loginCodeResendAt"],
        gettext("Your code has expired. Enter your username, e-mail address or phone number again for a new one."),
        PAGES.loginCode,
      );

    const form = document.getElementById("login-code-confirm-form");
    const input = codeField(form.elements.code);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearErrors(form);
      const answer = await busy(form, gettext("Logging in…"), () =>
        call("POST", API.loginCodeConfirm, { token: pending.token, body: { code: input.value.trim() } }),
      );
      if (answer.status === 401) return expired();
      if (!answer.ok) return showError(form, answer);
      store.remove("loginCode", "loginCodeResendAt");
      store.set("session", { access: answer.data.access, refresh: answer.data.refresh, userInput: pending.userInput });
      location.assign(PAGES.account);
    });

    // The login-code request answers alike whether a code went out or the last one is still in its
    // cooldown, and tells no cooldown: the pages count the server's one from each request, and a new
    // request (a new token, the same account) is what "Send a new code" makes.
    const button = document.getElementById("resend");
    const cooldown = Number(button.dataset.cooldown);
    resendButton(button, {
      key: "loginCodeResendAt",
      request: async () => {
        const answer = await call("POST", API.loginCode, { body: { user_input: pending.userInput } });
        if (!answer.ok) return answer;
        pending = { ...pending, token: answer.data.access };
        store.set("loginCode", pending);
        return { ...answer, data: { detail: gettext("A new code has been sent."), retry_after: cooldown } };
      },
      expired,
    });
  },

  async account() {
    const showExpiry = (tokens) => {
      const exp = claims(tokens.refresh).exp;
      bind("expires", exp ? DATES.format(new Date(exp * 1000)) : "–");
    };
    const auth = loggedIn({ rotated: showExpiry });
    if (!auth) {
      flash(gettext("Log in to see your account."), "info");
      return location.replace(PAGES.login);
    }
    showFlash();
    showExpiry(auth.tokens);
    accountCards.sessions(auth);
    const profile = await accountCards.load(auth);
    if (!profile) return auth.leave(gettext("Your session has ended. Log in again."), { kind: "info", replace: true });
    accountCards.profile(auth, profile);
    accountCards.identifier(auth, profile);
    accountCards.password(auth);
    accountCards.remove(auth);
  },
};

/**
 * The language switcher in the footer: Django's set_language, which keeps the choice in a cookie and
 * comes back to this page. Choosing a language sends the form; its button is for a browser without
 * this script.
 */
function languageSwitcher() {
  const form = document.getElementById("language-form");
  if (!form) return;
  form.querySelector("[type=submit]").hidden = true;
  form.elements.language.addEventListener("change", () => form.requestSubmit());
}

languageSwitcher();

// The header shows "Your account" instead of "Log in" and "Sign up" while a session is open.
const isLoggedIn = Boolean(store.get("session"));
for (const link of document.querySelectorAll("[data-show]")) {
  link.hidden = (link.dataset.show === "member") !== isLoggedIn;
}

pages[document.body.dataset.page]?.();
