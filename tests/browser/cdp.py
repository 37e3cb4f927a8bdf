"""Drive Debian's headless Chromium over the DevTools protocol on a pipe (--remote-debugging-pipe:
commands on fd 3, replies on fd 4, NUL-separated JSON), so no websocket library and no port.

    with Browser() as b:
        page = b.open('file:///tmp/x.html')
        page.eval('document.title')
        page.click_at(x, y)
        page.screenshot('/tmp/x.png')
        page.requests   # every network request the page attempted (URL, type)
        page.errors     # console errors and uncaught exceptions
"""
import base64
import fcntl
import json
import os
import shutil
import subprocess
import tempfile
import time

FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
         '--disable-component-update', '--disable-sync', '--no-first-run', '--no-default-browser-check',
         '--disable-extensions', '--disable-default-apps', '--mute-audio', '--hide-scrollbars',
         '--remote-debugging-pipe']


def chromium_path():
    for p in (os.environ.get('GSM_CHROMIUM'), '/usr/bin/chromium', shutil.which('chromium')):
        if p and os.access(p, os.X_OK):
            return p
    return None


class CDPError(Exception):
    pass


class Browser:
    def __init__(self, timeout=30.0, width=1400, height=1000):
        self.timeout = timeout
        self.size = (width, height)
        self.profile = tempfile.mkdtemp(prefix='gsm-chromium-')   # a fresh --user-data-dir
        to_chrome = os.pipe()
        from_chrome = os.pipe()
        # dup above 10 first, so the dup2 to 3/4 below never lands on one of our own pipe fds
        c_in = fcntl.fcntl(to_chrome[0], fcntl.F_DUPFD_CLOEXEC, 10)
        c_out = fcntl.fcntl(from_chrome[1], fcntl.F_DUPFD_CLOEXEC, 10)

        def child():
            os.dup2(c_in, 3)
            os.dup2(c_out, 4)
        exe = chromium_path()
        if not exe:
            raise CDPError('chromium not installed')
        self.log = open(os.path.join(self.profile, 'chromium.log'), 'w')
        self.proc = subprocess.Popen(
            [exe] + FLAGS + ['--user-data-dir=' + self.profile, '--window-size=%d,%d' % self.size, 'about:blank'],
            preexec_fn=child, close_fds=False, stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log)
        for fd in (to_chrome[0], from_chrome[1], c_in, c_out):
            os.close(fd)
        self.w, self.r = to_chrome[1], from_chrome[0]
        self.buf = b''
        self.next_id = 0
        self.pending = []   # events read while waiting for a reply

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        try:
            self.send('Browser.close')
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()   # our own child, by its handle
            self.proc.wait()
        for fd in (self.w, self.r):
            try:
                os.close(fd)
            except OSError:
                pass
        self.log.close()
        shutil.rmtree(self.profile, ignore_errors=True)

    def send(self, method, params=None, session=None):
        self.next_id += 1
        msg = {'id': self.next_id, 'method': method, 'params': params or {}}
        if session:
            msg['sessionId'] = session
        try:
            os.write(self.w, json.dumps(msg).encode() + b'\0')
        except OSError as e:
            raise CDPError('chromium is not reading its pipe (%s): %s' % (e, self.log_tail()))
        return self.next_id

    def log_tail(self):
        try:
            self.log.flush()
            with open(self.log.name, errors='replace') as f:
                return ' | '.join(f.read().strip().splitlines()[-3:])
        except OSError:
            return ''

    def read(self, deadline):
        import select
        while b'\0' not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise CDPError('timed out waiting for chromium')
            ready, _, _ = select.select([self.r], [], [], left)
            if not ready:
                continue
            data = os.read(self.r, 1 << 20)
            if not data:
                raise CDPError('chromium closed the pipe: %s' % self.log_tail())
            self.buf += data
        i = self.buf.index(b'\0')
        msg, self.buf = self.buf[:i], self.buf[i + 1:]
        return json.loads(msg)

    def call(self, method, params=None, session=None):
        mid = self.send(method, params, session)
        deadline = time.monotonic() + self.timeout
        while True:
            m = self.read(deadline)
            if m.get('id') == mid:
                if 'error' in m:
                    raise CDPError('%s: %s' % (method, m['error']))
                return m.get('result', {})
            self.pending.append(m)

    def open(self, url):
        t = self.call('Target.createTarget', {'url': 'about:blank'})
        s = self.call('Target.attachToTarget', {'targetId': t['targetId'], 'flatten': True})['sessionId']
        p = Page(self, s)
        for dom in ('Network.enable', 'Runtime.enable', 'Log.enable', 'Page.enable'):
            self.call(dom, {}, s)
        self.call('Emulation.setDeviceMetricsOverride',
                  {'width': self.size[0], 'height': self.size[1], 'deviceScaleFactor': 1, 'mobile': False}, s)
        p.navigate(url)
        return p


class Page:
    def __init__(self, browser, session):
        self.b = browser
        self.s = session
        self.requests = []
        self.errors = []
        self.console = []

    def drain(self):
        """File the events read so far (network requests, console messages, exceptions)."""
        keep = []
        for m in self.b.pending:
            if m.get('sessionId') != self.s:
                keep.append(m)
                continue
            meth, p = m.get('method'), m.get('params', {})
            if meth == 'Network.requestWillBeSent':
                self.requests.append((p['request']['url'], p.get('type')))
            elif meth == 'Runtime.exceptionThrown':
                d = p['exceptionDetails']
                self.errors.append('exception: %s %s' % (d.get('text'), d.get('exception', {}).get('description', '')))
            elif meth == 'Runtime.consoleAPICalled':
                text = ' '.join(str(a.get('value', a.get('description', ''))) for a in p.get('args', []))
                self.console.append((p['type'], text))
                if p['type'] in ('error', 'assert'):
                    self.errors.append('console.%s: %s' % (p['type'], text))
            elif meth == 'Log.entryAdded':
                e = p['entry']
                if e.get('level') == 'error':
                    self.errors.append('log: %s %s' % (e.get('text'), e.get('url', '')))
        self.b.pending = keep

    def call(self, method, params=None):
        r = self.b.call(method, params, self.s)
        self.drain()
        return r

    def navigate(self, url):
        self.call('Page.navigate', {'url': url})
        self.wait_for('document.readyState === "complete"')

    def eval(self, expr):
        r = self.call('Runtime.evaluate', {'expression': expr, 'returnByValue': True, 'awaitPromise': True})
        if 'exceptionDetails' in r:
            raise CDPError('evaluating %r: %s' % (expr[:80], r['exceptionDetails'].get('exception', {}).get('description')))
        return r['result'].get('value')

    def wait_for(self, expr, timeout=15.0):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                if self.eval(expr):
                    return True
            except CDPError:
                pass
            time.sleep(0.05)
        raise CDPError('timed out waiting for: ' + expr)

    def mouse(self, kind, x, y, buttons=0, button='none', clicks=0):
        self.call('Input.dispatchMouseEvent', {'type': kind, 'x': x, 'y': y, 'button': button,
                                               'buttons': buttons, 'clickCount': clicks})

    def click_at(self, x, y):
        """A real click: the browser hit-tests (x, y) as it would a person's mouse."""
        self.mouse('mouseMoved', x, y)
        self.mouse('mousePressed', x, y, 1, 'left', 1)
        self.mouse('mouseReleased', x, y, 0, 'left', 1)

    def click(self, selector):
        r = self.eval('(function(){var e=document.querySelector(%s); if(!e) return null; e.scrollIntoView({block:"center"});'
                      'var r=e.getBoundingClientRect(); return [r.left+Math.min(r.width/2,20), r.top+r.height/2];})()'
                      % json.dumps(selector))
        if not r:
            raise CDPError('nothing matches ' + selector)
        self.click_at(r[0], r[1])

    def hover(self, selector):
        r = self.eval('(function(){var e=document.querySelector(%s); if(!e) return null; e.scrollIntoView({block:"center"});'
                      'var r=e.getBoundingClientRect(); return [r.left+Math.min(r.width/2,20), r.top+r.height/2];})()'
                      % json.dumps(selector))
        if not r:
            raise CDPError('nothing matches ' + selector)
        self.mouse('mouseMoved', r[0], r[1])

    def type_text(self, selector, text):
        self.eval('document.querySelector(%s).focus()' % json.dumps(selector))
        self.call('Input.insertText', {'text': text})

    def screenshot(self, path, full=True):
        params = {'format': 'png', 'captureBeyondViewport': full}
        if full:
            w, h = self.eval('[document.documentElement.scrollWidth, document.documentElement.scrollHeight]')
            params['clip'] = {'x': 0, 'y': 0, 'width': w, 'height': min(h, 6000), 'scale': 1}
        data = self.call('Page.captureScreenshot', params)['data']
        with open(path, 'wb') as f:
            f.write(base64.b64decode(data))
