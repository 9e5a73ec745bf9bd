/*
 * The behaviour of the web pages: one function per page, chosen by <body data-page="...">.
 *
 * Every page calls the same-origin JSON API under /user/, as any other client would, and shows what
 * it answers: the `fields` of an error ({"detail", "code", "fields"}) next to their fields, anything
 * else in the page's aria-live notice (#notice).
 *
 * Where the tokens live: sessionStorage, never localStorage. The flow spans several pages, so a token
 * held only in memory would be lost at each navigation. sessionStorage belongs to this tab and this
 * origin, is emptied when the tab closes, is not shared with other tabs and is never sent to the
 * server by itself (so cookies-style CSRF does not apply); localStorage would keep a refresh token on
 * disk for days. Script on this origin can still read it, so the pages run only their own scripts
 * (see the Content-Security-Policy in web/views.py).
 */

const API = {
  signup: "/user/signup/",
  verify: "/user/verify/",
  newVerify: "/user/new-verify/",
  deliveryStatus: "/user/delivery-status/",
  profile: "/user/change-user-info/",
  me: "/user/me/",
  login: "/user/login/",
  logout: "/user/logout/",
  refresh: "/user/login-refresh/",
};

const PAGES = { signup: "/signup/", verify: "/verify/", profile: "/profile/", login: "/login/", account: "/account/" };

// sessionStorage keys: "signup" {token, identifier}, "verified" (token), "resendAt" (ms),
// "session" {access, refresh, userInput}, "flash" {message, kind, userInput} for the next page.
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
  const headers = { Accept: "application/json" };
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
    return failure(0, "We could not reach the server. Check your connection and try again.");
  }
  const data = await response.json().catch(() => null);
  const seconds = Number.parseInt(response.headers.get("Retry-After") ?? "", 10);
  const retryAfter = Number.isFinite(seconds) ? seconds : null;
  if (!response.ok && typeof data?.detail !== "string") {
    return failure(response.status, `Something went wrong (${response.status}). Please try again.`);
  }
  return { ok: response.ok, status: response.status, data: data ?? {}, retryAfter };
}

function failure(status, detail) {
  return { ok: false, status, data: { detail, code: "unexpected", fields: {} }, retryAfter: null };
}

function duration(seconds) {
  if (seconds < 60) return `${seconds} second${seconds === 1 ? "" : "s"}`;
  const minutes = Math.ceil(seconds / 60);
  return `${minutes} minute${minutes === 1 ? "" : "s"}`;
}

/** Puts a message in the page's aria-live notice; kind is "error", "success" or "info". */
function notify(message, kind = "error") {
  const notice = document.getElementById("notice");
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
  notify("");
}

/** Shows an API error: each field's messages under that field, the rest in the notice. */
function showError(form, answer) {
  const { detail, fields = {} } = answer.data;
  const elsewhere = [];
  const marked = [];
  for (const [name, messages] of Object.entries(fields)) {
    const input = form.elements.namedItem(name);
    const slot = document.getElementById(`${name}-error`);
    if (input && slot) {
      input.setAttribute("aria-invalid", "true");
      slot.textContent = messages.join(" ");
      marked.push(input);
    } else {
      elsewhere.push(...messages);
    }
  }
  let message = elsewhere.join(" ") || (marked.length ? "" : detail);
  if (marked.length && !message) {
    message = marked.length === 1 ? "Check the highlighted field." : `Check the ${marked.length} highlighted fields.`;
  }
  if (answer.retryAfter) message += ` Try again in ${duration(answer.retryAfter)}.`;
  notify(message.trim(), "error");
  marked[0]?.focus();
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

function bind(name, value) {
  for (const element of document.querySelectorAll(`[data-bind="${name}"]`)) element.textContent = value;
}

/** The sign-up token expired or was refused: go back to the start with a word of explanation. */
function restartSignup() {
  store.remove("signup", "verified", "resendAt");
  flash("Your sign-up has expired. Enter your e-mail address or phone number again for a new code.", "info");
  location.assign(PAGES.signup);
}

/** A JWT's claims, for display only: the server checks the signature, the page just reads them. */
function claims(token) {
  try {
    return JSON.parse(atob(token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
  } catch {
    return {};
  }
}

const pages = {
  home() {},

  signup() {
    showFlash();
    const form = document.getElementById("signup-form");
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearErrors(form);
      const identifier = form.elements.email_phone_number.value.trim();
      const answer = await busy(form, "Sending your code…", () =>
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
    const input = form.elements.code;
    // Digits only, and no more than a code has: a pasted "123 456" still fits.
    input.addEventListener("input", () => {
      input.value = input.value.replace(/\D/g, "").slice(0, Number(input.dataset.length));
    });
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
      const answer = await busy(form, "Checking…", () =>
        call("POST", API.verify, { token: signup.token, body: { code } }),
      );
      if (answer.status === 401) return restartSignup();
      if (!answer.ok) return showError(form, answer);
      webOtp.abort();
      store.set("verified", answer.data.access);
      store.remove("resendAt");
      location.assign(PAGES.profile);
    });

    // Resend: the server decides when another code may go out (Retry-After on 429, retry_after on
    // 200); the button counts down from that, and the count survives a reload of the page.
    const resend = document.getElementById("resend");
    const idleLabel = resend.textContent;
    let countdown;
    const tick = () => {
      clearTimeout(countdown);
      const left = Math.ceil(((store.get("resendAt") ?? 0) - Date.now()) / 1000);
      if (left > 0) {
        resend.setAttribute("aria-disabled", "true");
        resend.textContent = `${idleLabel} in ${left} s`;
        countdown = setTimeout(tick, 1000);
      } else {
        resend.removeAttribute("aria-disabled");
        resend.textContent = idleLabel;
        store.remove("resendAt");
      }
    };
    const waitFor = (seconds) => {
      store.set("resendAt", Date.now() + seconds * 1000);
      tick();
    };
    resend.addEventListener("click", async () => {
      // aria-disabled rather than disabled, so the button keeps the keyboard focus while counting.
      if (resend.getAttribute("aria-disabled") === "true") return;
      resend.setAttribute("aria-disabled", "true");
      const answer = await call("GET", API.newVerify, { token: signup.token });
      resend.removeAttribute("aria-disabled");
      if (answer.status === 401) return restartSignup();
      if (answer.ok) {
        notify(answer.data.detail, "success");
        waitFor(answer.data.retry_after);
        watchDelivery();
      } else if (answer.status === 429 && answer.retryAfter) {
        notify(`You can ask for a new code in ${duration(answer.retryAfter)}.`, "info");
        waitFor(answer.retryAfter);
      } else {
        notify(answer.data.detail, "error");
      }
    });
    tick();

    // Delivery status: polled while the code is on its way. A 404 means no record (yet, or a server
    // without this endpoint); the panel then stays hidden and the page works without it.
    const panel = document.getElementById("delivery");
    const labels = { queued: "Sending", sent: "Sent", delivered: "Delivered", failed: "Failed", undelivered: "Not delivered" };
    let polling;
    const watchDelivery = async (round = 0) => {
      clearTimeout(polling);
      const answer = await call("GET", API.deliveryStatus, { token: signup.token });
      if (answer.ok) {
        const { channel, recipient, status, attempts, detail } = answer.data;
        const badge = document.getElementById("delivery-badge");
        badge.textContent = labels[status] ?? status;
        badge.dataset.status = status;
        const by = channel === "sms" ? "SMS" : "E-mail";
        document.getElementById("delivery-recipient").textContent = `${by} to ${recipient}`;
        const tries = attempts > 1 ? ` (${attempts} attempts)` : "";
        document.getElementById("delivery-detail").textContent = `${detail}${tries}`;
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
      const answer = await busy(form, "Saving…", () => call("PATCH", API.profile, { token, body }));
      if (answer.status === 401) return restartSignup();
      if (!answer.ok) return showError(form, answer);
      store.remove("signup", "verified", "resendAt");
      flash("Your account is ready. Log in with your new password.", "success", { userInput: answer.data.username });
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
      const answer = await busy(form, "Logging in…", () => call("POST", API.login, { body }));
      if (!answer.ok) {
        form.elements.password.value = "";
        return showError(form, answer);
      }
      store.set("session", { access: answer.data.access, refresh: answer.data.refresh, userInput });
      location.assign(PAGES.account);
    });
  },

  account() {
    let session = store.get("session");
    if (!session) {
      flash("Log in to see your account.", "info");
      return location.replace(PAGES.login);
    }
    const format = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
    const showExpiry = () => {
      const exp = claims(session.refresh).exp;
      bind("expires", exp ? format.format(new Date(exp * 1000)) : "–");
    };
    showExpiry();

    // The access token lives minutes, the refresh token days: a 401 rotates the pair and the request
    // is tried once more. Callers that held the same pair share that one rotation, because sending a
    // rotated refresh token again counts as theft and revokes every session of the account.
    let rotation = { from: null, answer: null };
    const rotate = (used) => {
      if (rotation.from !== used.refresh) {
        const answer = call("POST", API.refresh, { body: { refresh: used.refresh } }).then((fresh) => {
          if (fresh.ok) {
            session = { ...session, access: fresh.data.access, refresh: fresh.data.refresh };
            store.set("session", session);
            showExpiry();
          }
          return fresh;
        });
        rotation = { from: used.refresh, answer };
      }
      return rotation.answer;
    };
    /** Runs request(session), rotating the pair once after a 401; a 401 it returns means the session is over. */
    const authorized = async (request) => {
      const used = session;
      const answer = await request(used);
      if (answer.status !== 401) return answer;
      const fresh = await rotate(used);
      if (fresh.ok) return request(session);
      // A refused refresh token leaves the 401 standing; a lost connection, a 429 or a 5xx says
      // nothing about the tokens, so that is what the caller sees, and the session is kept.
      const refused = fresh.status >= 400 && fresh.status < 500 && fresh.status !== 429;
      return refused ? answer : fresh;
    };
    const sessionOver = () => {
      store.remove("session");
      flash("Your session has ended. Log in again.", "info", { userInput: session.userInput });
      location.replace(PAGES.login);
    };

    const genders = { female: "Female", male: "Male", other: "Other", unspecified: "Prefer not to say" };
    const facts = document.getElementById("profile");
    const load = async () => {
      const answer = await authorized(({ access }) => call("GET", API.me, { token: access }));
      if (answer.status === 401) return sessionOver();
      facts.removeAttribute("aria-busy");
      if (!answer.ok) {
        const wait = answer.retryAfter ? ` Try again in ${duration(answer.retryAfter)}.` : "";
        bind("username", session.userInput);
        return notify(`${answer.data.detail}${wait}`, "error");
      }
      const profile = answer.data;
      bind("username", profile.username ?? session.userInput);
      const shown = { ...profile, gender: genders[profile.gender] ?? profile.gender };
      // E-mail or phone number: whichever the account has. Optional details only when set.
      for (const name of ["first_name", "email", "phone_number", "bio", "gender"]) {
        document.querySelector(`[data-row="${name}"]`).hidden = !shown[name];
        bind(name, shown[name] ?? "");
      }
    };
    load();

    const button = document.getElementById("logout");
    button.addEventListener("click", async () => {
      button.disabled = true;
      notify("");
      const answer = await authorized(({ access, refresh }) =>
        call("POST", API.logout, { token: access, body: { refresh } }),
      );
      button.disabled = false;
      // 401 means the tokens are already dead: forgetting them is all that is left to do.
      if (!answer.ok && answer.status !== 401) return notify(answer.data.detail, "error");
      store.remove("session");
      flash("You are logged out.", "success");
      location.assign(PAGES.login);
    });
  },
};

// The header shows "Your account" instead of "Log in" and "Sign up" while a session is open.
const loggedIn = Boolean(store.get("session"));
for (const link of document.querySelectorAll("[data-show]")) {
  link.hidden = (link.dataset.show === "member") !== loggedIn;
}

pages[document.body.dataset.page]?.();
