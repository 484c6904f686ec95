//! Helpers of the dashboard's browser tests (`web_*.rs`): Debian's headless Chromium driven
//! over the DevTools protocol, and the bits of a dashboard session a test needs.
//!
//! The protocol client is written here, over a blocking `tungstenite` WebSocket: the tests
//! need six commands (create and attach a page, navigate, evaluate, screenshot, cookies), and
//! the crates that wrap the whole protocol (chromiumoxide, headless_chrome) compile its
//! generated bindings — far more than these tests use — on every cold CI build.

#![allow(dead_code)]

use std::collections::VecDeque;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

/// Where the browser is: `PLINTH_CHROMIUM`, else Debian's `/usr/bin/chromium`.
pub fn chromium_path() -> PathBuf {
    let path = std::env::var_os("PLINTH_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    assert!(
        path.exists(),
        "no Chromium at {}: run scripts/setup.sh (it installs Debian's chromium) or set \
         PLINTH_CHROMIUM to a Chromium binary",
        path.display()
    );
    path
}

/// Where screenshots go: `target/screenshots/` of the workspace (a CI artifact).
pub fn screenshot_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A headless Chromium with one page, driven over the DevTools protocol.
pub struct Browser {
    child: Child,
    _profile: tempfile::TempDir,
    ws: WebSocket<MaybeTlsStream<TcpStream>>,
    session: String,
    next_id: u64,
    events: VecDeque<Value>,
}

const TIMEOUT: Duration = Duration::from_secs(60);

impl Browser {
    /// Starts Chromium with a new empty profile and attaches to a fresh page.
    pub fn launch() -> Browser {
        let profile = tempfile::tempdir().unwrap();
        // The flags that keep Chromium off the network (this machine has none) and quiet.
        let child = Command::new(chromium_path())
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
                "--remote-debugging-port=0",
                "--window-size=1280,900",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromium");
        let port_file = profile.path().join("DevToolsActivePort");
        let deadline = Instant::now() + TIMEOUT;
        let text = loop {
            if let Ok(text) = std::fs::read_to_string(&port_file)
                && text.lines().count() >= 2
            {
                break text;
            }
            assert!(
                Instant::now() < deadline,
                "Chromium did not open its DevTools port"
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        let mut lines = text.lines();
        let port = lines.next().unwrap().trim().to_owned();
        let path = lines.next().unwrap().trim().to_owned();
        let (ws, _) = tungstenite::connect(format!("ws://127.0.0.1:{port}{path}"))
            .expect("connect to Chromium's DevTools WebSocket");
        if let MaybeTlsStream::Plain(stream) = ws.get_ref() {
            stream.set_read_timeout(Some(TIMEOUT)).unwrap();
        }
        let mut browser = Browser {
            child,
            _profile: profile,
            ws,
            session: String::new(),
            next_id: 0,
            events: VecDeque::new(),
        };
        let target = browser.send(None, "Target.createTarget", json!({"url": "about:blank"}));
        let attached = browser.send(
            None,
            "Target.attachToTarget",
            json!({"targetId": target["targetId"], "flatten": true}),
        );
        browser.session = attached["sessionId"].as_str().unwrap().to_owned();
        browser.call("Page.enable", json!({}));
        browser.call("Runtime.enable", json!({}));
        browser.viewport(1280, 900, false);
        browser
    }

    fn send(&mut self, session: Option<&str>, method: &str, params: Value) -> Value {
        match self.try_send(session, method, params) {
            Ok(v) => v,
            Err(error) => panic!("{method} failed: {error}"),
        }
    }

    fn try_send(
        &mut self,
        session: Option<&str>,
        method: &str,
        params: Value,
    ) -> Result<Value, Value> {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({"id": id, "method": method, "params": params});
        if let Some(s) = session {
            message["sessionId"] = json!(s);
        }
        self.ws
            .send(Message::text(message.to_string()))
            .expect("send to Chromium");
        let deadline = Instant::now() + TIMEOUT;
        loop {
            assert!(Instant::now() < deadline, "no answer to {method}");
            let value = self.read();
            if value.get("id").and_then(Value::as_u64) == Some(id) {
                if let Some(error) = value.get("error") {
                    return Err(error.clone());
                }
                return Ok(value["result"].clone());
            }
            if value.get("method").is_some() {
                self.events.push_back(value);
            }
        }
    }

    fn read(&mut self) -> Value {
        loop {
            match self.ws.read().expect("read from Chromium") {
                Message::Text(text) => return serde_json::from_str(&text).unwrap(),
                Message::Close(_) => panic!("Chromium closed the DevTools connection"),
                _ => continue,
            }
        }
    }

    /// A command to the page.
    pub fn call(&mut self, method: &str, params: Value) -> Value {
        let session = self.session.clone();
        self.send(Some(&session), method, params)
    }

    /// Waits for the page's next load event (events seen earlier are dropped first).
    fn wait_for_load(&mut self, since: usize) {
        let _ = since;
        let deadline = Instant::now() + TIMEOUT;
        loop {
            while let Some(event) = self.events.pop_front() {
                if event["method"] == "Page.loadEventFired" {
                    return;
                }
            }
            assert!(Instant::now() < deadline, "the page did not finish loading");
            let value = self.read();
            if value.get("method").is_some() {
                self.events.push_back(value);
            }
        }
    }

    /// Opens `url` and waits until it has loaded.
    pub fn goto(&mut self, url: &str) {
        self.events.clear();
        let result = self.call("Page.navigate", json!({"url": url}));
        assert!(
            result.get("errorText").is_none(),
            "navigating to {url}: {result}"
        );
        self.wait_for_load(0);
    }

    /// Runs `js` (an expression; a promise is awaited) in the page and returns its value.
    pub fn eval(&mut self, js: &str) -> Value {
        let result = self.call(
            "Runtime.evaluate",
            json!({"expression": js, "returnByValue": true, "awaitPromise": true}),
        );
        if let Some(e) = result.get("exceptionDetails") {
            panic!("script {js:?} threw: {e}");
        }
        result["result"]["value"].clone()
    }

    /// Like [`Browser::eval`], but `None` when the script fails or the page is between two
    /// documents (for polling while the page reloads itself).
    pub fn try_eval(&mut self, js: &str) -> Option<Value> {
        let session = self.session.clone();
        let result = self
            .try_send(
                Some(&session),
                "Runtime.evaluate",
                json!({"expression": js, "returnByValue": true, "awaitPromise": true}),
            )
            .ok()?;
        if result.get("exceptionDetails").is_some() {
            return None;
        }
        Some(result["result"]["value"].clone())
    }

    /// Runs `js`, which navigates (a form submission, a click on a link), and waits for the
    /// new page to load.
    pub fn eval_and_wait(&mut self, js: &str) {
        self.events.clear();
        self.eval(js);
        self.wait_for_load(0);
    }

    /// The page's address.
    pub fn location(&mut self) -> String {
        self.eval("location.pathname + location.search")
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// The text of the page's body.
    pub fn text(&mut self) -> String {
        self.eval("document.body.innerText")
            .as_str()
            .unwrap_or("")
            .to_owned()
    }

    /// Sets the viewport: 1280 × 900 for a laptop, 390 × 844 (mobile) for a phone.
    pub fn viewport(&mut self, width: u32, height: u32, mobile: bool) {
        self.call(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile}),
        );
    }

    /// Saves a PNG of the whole page as `target/screenshots/NAME.png` and returns its path.
    pub fn screenshot(&mut self, name: &str) -> PathBuf {
        let metrics = self.call("Page.getLayoutMetrics", json!({}));
        let size = &metrics["cssContentSize"];
        let width = size["width"].as_f64().unwrap_or(1280.0).ceil();
        let height = size["height"].as_f64().unwrap_or(900.0).ceil().min(6000.0);
        let shot = self.call(
            "Page.captureScreenshot",
            json!({
                "format": "png",
                "captureBeyondViewport": true,
                "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1},
            }),
        );
        let png = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().unwrap())
            .unwrap();
        assert!(png.starts_with(b"\x89PNG"), "not a PNG");
        let path = screenshot_dir().join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        path
    }

    /// Every cookie the browser holds.
    pub fn cookies(&mut self) -> Vec<Value> {
        let result = self.send(None, "Storage.getCookies", json!({}));
        result["cookies"].as_array().cloned().unwrap_or_default()
    }

    /// Forgets every cookie (a fresh visitor).
    pub fn clear_cookies(&mut self) {
        self.send(None, "Storage.clearCookies", json!({}));
    }

    /// Signs in through the sign-in form with `token`; returns the address landed on.
    pub fn sign_in(&mut self, base: &str, token: &str) -> String {
        self.goto(&format!("{base}/login"));
        let script = format!(
            "document.querySelector('input[name=token]').value = {}; \
             document.querySelector('form.signin').requestSubmit(); true",
            serde_json::to_string(token).unwrap()
        );
        self.eval_and_wait(&script);
        self.location()
    }

    /// `fetch` from the page (same origin, its cookies, redirects followed) of a form post or
    /// a GET: `(status, body text)`.
    pub fn fetch(&mut self, method: &str, path: &str, form: &[(&str, &str)]) -> (u16, String) {
        let body: Vec<String> = form
            .iter()
            .map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v)))
            .collect();
        let init = if method == "GET" {
            json!({"method": "GET", "credentials": "same-origin"})
        } else {
            json!({"method": method, "credentials": "same-origin",
                   "headers": {"Content-Type": "application/x-www-form-urlencoded"},
                   "body": body.join("&")})
        };
        let js = format!(
            "fetch({}, {init}).then(async r => [r.status, await r.text()])",
            serde_json::to_string(path).unwrap()
        );
        let v = self.eval(&js);
        (
            v[0].as_u64().unwrap() as u16,
            v[1].as_str().unwrap_or("").to_owned(),
        )
    }

    /// Makes every later page record `alert`, `confirm` and `prompt` calls in
    /// `window.__dialogs` instead of showing them: a script that ran would leave a trace.
    pub fn record_dialogs(&mut self) {
        self.call(
            "Page.addScriptToEvaluateOnNewDocument",
            json!({"source": "window.__dialogs = []; \
                ['alert', 'confirm', 'prompt'].forEach(n => { window[n] = m => { window.__dialogs.push(n + ':' + m); }; });"}),
        );
    }
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
