"""A browser without a browser: fetches the portal's pages over plain HTTP, keeps cookies, and
submits their forms as served (hidden fields, CSRF token included). The black-box tests use it to
sign in and approve device codes the way a person's browser would."""

import functools
import http.client
import http.cookiejar
import urllib.error
import urllib.parse
import urllib.request
from html.parser import HTMLParser


class _Forms(HTMLParser):
    """Collects each form's id, action and fields (inputs and the submit buttons' values)."""

    def __init__(self):
        super().__init__()
        self.forms, self.ids, self._form = [], {}, None
        self._capture, self.texts = None, {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id") and tag not in ("form", "input"):
            self._capture, self.texts[a["id"]] = a["id"], ""
        if tag == "form":
            self._form = {"id": a.get("id"), "action": a.get("action"), "fields": {},
                          "buttons": []}
            self.forms.append(self._form)
        elif tag == "input" and self._form is not None and a.get("name"):
            self._form["fields"][a["name"]] = a.get("value", "")
        elif tag == "button" and self._form is not None and a.get("name"):
            self._form["buttons"].append((a["name"], a.get("value", "")))

    def handle_endtag(self, tag):
        self._capture = None
        if tag == "form":
            self._form = None

    def handle_data(self, data):
        if self._capture:
            self.texts[self._capture] += data


class Response:
    def __init__(self, status, url, headers, body):
        self.status, self.url, self.headers, self.body = status, url, headers, body
        parser = _Forms()
        parser.feed(body)
        self.forms, self.texts = parser.forms, parser.texts

    def form(self, form_id):
        for f in self.forms:
            if f["id"] == form_id:
                return f
        raise AssertionError(f"no form {form_id!r} on {self.url} ({self.status}): {self.body[:2000]}")

    def text(self, element_id):
        return self.texts.get(element_id)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class _FromAddress(urllib.request.HTTPHandler):
    """Connects from a given local address (another 127.x.y.z is another client address)."""

    def __init__(self, address):
        super().__init__()
        self.address = address

    def http_open(self, req):
        return self.do_open(
            functools.partial(http.client.HTTPConnection, source_address=(self.address, 0)), req)


class Browser:
    """Cookies and forms over plain HTTP; follows 303s itself so each hop is visible."""

    def __init__(self, user_agent="iic-blackbox-browser", source_address=None, jar=None):
        self.jar = jar if jar is not None else http.cookiejar.CookieJar()
        handlers = [urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect()]
        if source_address:
            handlers.append(_FromAddress(source_address))
        self.opener = urllib.request.build_opener(*handlers)
        self.user_agent = user_agent
        self.hops = []

    def request(self, url, data=None, follow=True):
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        req = urllib.request.Request(url, data=body, headers={"User-Agent": self.user_agent})
        if body is not None:
            req.add_header("Content-Type", "application/x-www-form-urlencoded")
        try:
            with self.opener.open(req, timeout=30) as r:
                resp = Response(r.status, url, r.headers, r.read().decode())
        except urllib.error.HTTPError as e:
            resp = Response(e.code, url, e.headers, e.read().decode())
        self.hops.append(resp)
        if follow and resp.status in (301, 302, 303) and resp.headers.get("Location"):
            return self.get(urllib.parse.urljoin(url, resp.headers["Location"]))
        return resp

    def get(self, url, follow=True):
        return self.request(url, follow=follow)

    def submit(self, page, form_id, follow=True, button=None, **fields):
        form = page.form(form_id)
        data = dict(form["fields"])
        data.update(fields)
        if button is not None:
            data[button[0]] = button[1]
        return self.request(urllib.parse.urljoin(page.url, form["action"]), data, follow)

    def cookie(self, name):
        for c in self.jar:
            if c.name == name:
                return c
        return None


def sign_in(browser, page, user_name, password, new_password=None):
    """From a sign-in page: user name, password, and the forced change when one is asked."""
    page = browser.submit(page, "sign-in", username=user_name)
    page = browser.submit(page, "sign-in", password=password)
    if any(f["id"] == "password-change" for f in page.forms):
        assert new_password, "the portal asks for a new password; pass new_password"
        page = browser.submit(page, "password-change", new_password=new_password,
                              confirm_password=new_password)
    return page


def approve_device(verification_uri_complete, user_name, password, new_password=None,
                   action="approve", browser=None):
    """Opens the verification link, signs in (changing a one-time password when forced),
    confirms the prefilled code and answers; returns the result page."""
    browser = browser or Browser()
    page = browser.get(verification_uri_complete)
    if any(f["id"] == "sign-in" for f in page.forms):
        page = sign_in(browser, page, user_name, password, new_password)
    page = browser.submit(page, "device-code")
    page = browser.submit(page, "device-decision", button=("action", action))
    assert page.status == 200 and page.text("device-result"), page.body[:2000]
    return page
