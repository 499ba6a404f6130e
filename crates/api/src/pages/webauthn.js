// The browser's half of a WebAuthn ceremony on the portal's pages. Each form of class
// "webauthn" carries the server's options (JSON, binary values in base64url) in data-options
// and says in data-ceremony whether to create a credential or to get an assertion. On submit
// the browser is asked, its answer is put in the form's "credential" field (JSON, binary values
// in base64url) and the form is posted as usual, with its CSRF token.
"use strict";

(function () {
  function fromB64url(text) {
    var b64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) {
      b64 += "=";
    }
    var bin = atob(b64);
    var bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) {
      bytes[i] = bin.charCodeAt(i);
    }
    return bytes.buffer;
  }

  function toB64url(buffer) {
    if (!buffer) {
      return null;
    }
    var bytes = new Uint8Array(buffer);
    var bin = "";
    for (var i = 0; i < bytes.length; i++) {
      bin += String.fromCharCode(bytes[i]);
    }
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function decodeIds(list) {
    (list || []).forEach(function (c) {
      c.id = fromB64url(c.id);
    });
  }

  function creationOptions(options) {
    var pk = options.publicKey;
    pk.challenge = fromB64url(pk.challenge);
    pk.user.id = fromB64url(pk.user.id);
    decodeIds(pk.excludeCredentials);
    return { publicKey: pk };
  }

  function requestOptions(options) {
    var pk = options.publicKey;
    pk.challenge = fromB64url(pk.challenge);
    decodeIds(pk.allowCredentials);
    return { publicKey: pk };
  }

  function created(cred) {
    var r = cred.response;
    return {
      id: cred.id,
      rawId: toB64url(cred.rawId),
      type: cred.type,
      response: {
        attestationObject: toB64url(r.attestationObject),
        clientDataJSON: toB64url(r.clientDataJSON),
        transports: r.getTransports ? r.getTransports() : undefined,
      },
      extensions: cred.getClientExtensionResults(),
    };
  }

  function asserted(cred) {
    var r = cred.response;
    return {
      id: cred.id,
      rawId: toB64url(cred.rawId),
      type: cred.type,
      response: {
        authenticatorData: toB64url(r.authenticatorData),
        clientDataJSON: toB64url(r.clientDataJSON),
        signature: toB64url(r.signature),
        userHandle: toB64url(r.userHandle),
      },
      extensions: cred.getClientExtensionResults(),
    };
  }

  function say(form, text) {
    var note = form.querySelector(".webauthn-status");
    if (!note) {
      note = document.createElement("p");
      note.className = "notice webauthn-status";
      note.setAttribute("role", "status");
      form.appendChild(note);
    }
    note.textContent = text;
  }

  function run(form) {
    var options = JSON.parse(form.getAttribute("data-options"));
    var field = form.querySelector("input[name=credential]");
    var ask;
    if (form.getAttribute("data-ceremony") === "create") {
      ask = navigator.credentials.create(creationOptions(options)).then(created);
    } else {
      ask = navigator.credentials.get(requestOptions(options)).then(asserted);
    }
    say(form, "Follow your browser's prompt: touch your security key or confirm with your device.");
    return ask.then(function (answer) {
      field.value = JSON.stringify(answer);
      form.submit();
    });
  }

  function start() {
    var forms = document.querySelectorAll("form.webauthn");
    if (!window.PublicKeyCredential || !navigator.credentials) {
      forms.forEach(function (form) {
        say(form, "This browser does not support security keys or passkeys.");
      });
      return;
    }
    forms.forEach(function (form) {
      form.setAttribute("data-ready", "true");
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        run(form).catch(function (e) {
          say(form, "Nothing was registered or checked (" + (e && e.name ? e.name : "error") + "). You can try again.");
        });
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
