// Gatehouse portal: passkey (WebAuthn) ceremonies. Passkeys need JavaScript; everything else in
// the portal works without it. Configuration comes from data- attributes (no inline script):
//   [data-passkey-sign-in]  button: navigator.credentials.get(), then go to data-callback
//   [data-passkey-autofill] element: the same ceremony with mediation "conditional" (autofill)
//   [data-passkey-register] button: navigator.credentials.create() for the signed-in user
// The JSON bodies are those of the official @better-auth/passkey client.
"use strict";
(function () {
  if (window.__gatehousePasskey) return; // loaded once even if two pages' parts include it
  window.__gatehousePasskey = true;

  function b64uToBuf(s) {
    var b64 = s.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) b64 += "=";
    var bin = atob(b64);
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.buffer;
  }

  function bufToB64u(buf) {
    var bytes = new Uint8Array(buf);
    var bin = "";
    for (var i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function supported() {
    return !!(window.PublicKeyCredential && navigator.credentials && navigator.credentials.get);
  }

  // showError puts a message in [role=alert]#error, creating it after the <h1> if needed.
  function showError(msg) {
    var el = document.getElementById("error");
    if (!el) {
      el = document.createElement("div");
      el.id = "error";
      el.className = "alert alert-error";
      el.setAttribute("role", "alert");
      var h1 = document.querySelector("main h1");
      if (h1 && h1.parentNode) h1.parentNode.insertBefore(el, h1.nextSibling);
      else document.body.insertBefore(el, document.body.firstChild);
    }
    el.hidden = false;
    el.textContent = msg;
    el.setAttribute("tabindex", "-1");
    el.focus();
  }

  function clearError() {
    var el = document.getElementById("error");
    if (el) { el.hidden = true; el.textContent = ""; }
  }

  function request(method, url, body) {
    var init = {
      method: method,
      credentials: "same-origin",
      headers: { Accept: "application/json" }
    };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(url, init).then(function (res) {
      return res.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
        if (!res.ok) {
          var err = new Error((data && data.message) || ("HTTP " + res.status));
          err.apiCode = data && data.code;
          throw err;
        }
        return data;
      });
    });
  }

  function descriptors(list) {
    return (list || []).map(function (c) {
      var d = { id: b64uToBuf(c.id), type: c.type || "public-key" };
      if (c.transports) d.transports = c.transports;
      return d;
    });
  }

  function requestOptions(o) {
    var pk = { challenge: b64uToBuf(o.challenge) };
    if (o.rpId) pk.rpId = o.rpId;
    if (o.timeout) pk.timeout = o.timeout;
    if (o.userVerification) pk.userVerification = o.userVerification;
    if (o.allowCredentials && o.allowCredentials.length) pk.allowCredentials = descriptors(o.allowCredentials);
    if (o.extensions) pk.extensions = o.extensions;
    return pk;
  }

  function creationOptions(o) {
    var pk = {
      challenge: b64uToBuf(o.challenge),
      rp: o.rp,
      user: { id: b64uToBuf(o.user.id), name: o.user.name, displayName: o.user.displayName },
      pubKeyCredParams: o.pubKeyCredParams
    };
    if (o.timeout) pk.timeout = o.timeout;
    if (o.attestation) pk.attestation = o.attestation;
    if (o.authenticatorSelection) pk.authenticatorSelection = o.authenticatorSelection;
    if (o.excludeCredentials) pk.excludeCredentials = descriptors(o.excludeCredentials);
    if (o.extensions) pk.extensions = o.extensions;
    if (o.hints && o.hints.length) pk.hints = o.hints;
    return pk;
  }

  // authenticationJSON is AuthenticationResponseJSON without clientExtensionResults (the
  // official client leaves them out of the body).
  function authenticationJSON(cred) {
    var r = cred.response;
    var out = {
      id: cred.id,
      rawId: bufToB64u(cred.rawId),
      type: cred.type,
      response: {
        authenticatorData: bufToB64u(r.authenticatorData),
        clientDataJSON: bufToB64u(r.clientDataJSON),
        signature: bufToB64u(r.signature)
      }
    };
    if (r.userHandle && r.userHandle.byteLength) out.response.userHandle = bufToB64u(r.userHandle);
    if (cred.authenticatorAttachment) out.authenticatorAttachment = cred.authenticatorAttachment;
    return out;
  }

  function registrationJSON(cred) {
    var r = cred.response;
    var resp = {
      attestationObject: bufToB64u(r.attestationObject),
      clientDataJSON: bufToB64u(r.clientDataJSON)
    };
    if (typeof r.getTransports === "function") resp.transports = r.getTransports();
    if (typeof r.getPublicKeyAlgorithm === "function") resp.publicKeyAlgorithm = r.getPublicKeyAlgorithm();
    if (typeof r.getPublicKey === "function") {
      var pub = r.getPublicKey();
      if (pub) resp.publicKey = bufToB64u(pub);
    }
    if (typeof r.getAuthenticatorData === "function") resp.authenticatorData = bufToB64u(r.getAuthenticatorData());
    var out = { id: cred.id, rawId: bufToB64u(cred.rawId), type: cred.type, response: resp };
    if (cred.authenticatorAttachment) out.authenticatorAttachment = cred.authenticatorAttachment;
    return out;
  }

  function cancelled(err) {
    return err && (err.name === "NotAllowedError" || err.name === "AbortError");
  }

  // signIn runs the get() ceremony configured on el and navigates on success.
  function signIn(el, mediation, signal) {
    var trust = el.getAttribute("data-trust-device");
    return request("GET", el.getAttribute("data-options-url")).then(function (opts) {
      var req = { publicKey: requestOptions(opts) };
      if (mediation) req.mediation = mediation;
      if (signal) req.signal = signal;
      return navigator.credentials.get(req);
    }).then(function (cred) {
      if (!cred) throw Object.assign(new Error("no credential"), { name: "NotAllowedError" });
      var body = { response: authenticationJSON(cred) };
      if (trust) {
        var box = document.getElementById(trust);
        if (box && box.checked) body.trustDevice = true;
      }
      return request("POST", el.getAttribute("data-verify-url"), body);
    }).then(function (data) {
      if (data && data.twoFactorRedirect) {
        window.location.assign(el.getAttribute("data-two-factor-url"));
        return;
      }
      window.location.assign(el.getAttribute("data-callback") || "/");
    });
  }

  function failMessage(el, err) {
    if (cancelled(err)) return el.getAttribute("data-msg-cancelled");
    return el.getAttribute("data-msg-failed");
  }

  var conditional = null; // AbortController of a running autofill ceremony

  document.querySelectorAll("[data-passkey-sign-in]").forEach(function (btn) {
    if (!supported()) {
      // The passkey page says so; elsewhere the button simply stays hidden.
      if (btn.hasAttribute("data-required")) showError(btn.getAttribute("data-msg-unsupported"));
      return;
    }
    btn.hidden = false;
    btn.addEventListener("click", function () {
      if (conditional) { conditional.abort(); conditional = null; }
      clearError();
      btn.disabled = true;
      btn.setAttribute("aria-busy", "true");
      signIn(btn, null, null).catch(function (err) {
        showError(failMessage(btn, err));
      }).then(function () {
        btn.disabled = false;
        btn.removeAttribute("aria-busy");
      });
    });
  });

  var auto = document.querySelector("[data-passkey-autofill]");
  if (auto && supported() && typeof PublicKeyCredential.isConditionalMediationAvailable === "function") {
    PublicKeyCredential.isConditionalMediationAvailable().then(function (ok) {
      if (!ok || !window.AbortController) return;
      conditional = new AbortController();
      return signIn(auto, "conditional", conditional.signal);
    }).catch(function (err) {
      if (!cancelled(err)) showError(auto.getAttribute("data-msg-failed"));
    });
  }

  document.querySelectorAll("[data-passkey-register]").forEach(function (btn) {
    if (!supported() || !navigator.credentials.create) {
      showError(btn.getAttribute("data-msg-unsupported"));
      return;
    }
    btn.hidden = false;
    btn.addEventListener("click", function () {
      clearError();
      var input = document.getElementById(btn.getAttribute("data-name-input"));
      var name = input ? input.value.trim() : "";
      btn.disabled = true;
      btn.setAttribute("aria-busy", "true");
      request("GET", btn.getAttribute("data-options-url")).then(function (opts) {
        return navigator.credentials.create({ publicKey: creationOptions(opts) });
      }).then(function (cred) {
        if (!cred) throw Object.assign(new Error("no credential"), { name: "NotAllowedError" });
        var body = { response: registrationJSON(cred) };
        if (name) body.name = name;
        return request("POST", btn.getAttribute("data-verify-url"), body);
      }).then(function () {
        window.location.assign(btn.getAttribute("data-reload-url"));
      }).catch(function (err) {
        showError(failMessage(btn, err));
        btn.disabled = false;
        btn.removeAttribute("aria-busy");
      });
    });
  });
})();
