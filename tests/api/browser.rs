//! The web console and the API reference in a real headless Chromium (Debian's `chromium` and
//! `chromium-driver`, installed by scripts/chromium.sh), driven over WebDriver, against the
//! local gateway with a fresh table. Screenshots land in target/test-artifacts/ (git-ignored).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};

use crate::e2e::{Stack, stack};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const PATIENCE: Duration = Duration::from_secs(30);

/// A chromedriver of our own and one browser session on it.
struct Browser {
    client: Client,
    driver: Child,
    _profile: TempDir,
}

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl Browser {
    async fn start(label: &str) -> Self {
        for tool in [CHROMIUM, CHROMEDRIVER] {
            assert!(
                std::path::Path::new(tool).exists(),
                "{tool} is missing: run scripts/chromium.sh (make test does)"
            );
        }
        let port = free_port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let profile = std::env::temp_dir().join(format!(
            "podkeys-chromium-{label}-{}-{port}",
            std::process::id()
        ));
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                // As the machine's notes say: no sandbox as root, and no background traffic
                // to Google's hosts (the network is closed).
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--window-size=1280,900",
                    format!("--user-data-dir={}", profile.display()),
                ],
            },
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!("a JSON object literal")
        };
        let deadline = Instant::now() + PATIENCE;
        let client = loop {
            let attempt = ClientBuilder::new(HttpConnector::new())
                .capabilities(capabilities.clone())
                .connect(&format!("http://127.0.0.1:{port}"))
                .await;
            match attempt {
                Ok(c) => break c,
                Err(e) if Instant::now() > deadline => panic!("no WebDriver session: {e}"),
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        };
        Self {
            client,
            driver,
            _profile: TempDir(profile),
        }
    }

    /// Evaluates `js` (a function body) until it returns something truthy, and returns that.
    async fn until(&self, what: &str, js: &str) -> Value {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let v = self.client.execute(js, vec![]).await.expect("script runs");
            let truthy = match &v {
                Value::Null | Value::Bool(false) => false,
                Value::String(s) => !s.is_empty(),
                Value::Number(n) => n.as_f64() != Some(0.0),
                _ => true,
            };
            if truthy {
                return v;
            }
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn js(&self, js: &str) -> Value {
        self.client.execute(js, vec![]).await.expect("script runs")
    }

    async fn click(&self, css: &str) {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"))
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    async fn type_into(&self, css: &str, text: &str) {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"))
            .send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("type into {css}: {e}"));
    }

    async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.expect("screenshot");
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/test-artifacts");
        std::fs::create_dir_all(&dir).expect("artefact dir");
        std::fs::write(dir.join(format!("{name}.png")), png).expect("write screenshot");
    }

    /// Wraps the page's `fetch` (once per page) so a test can reorder real answers of the real
    /// server: every call is logged as "METHOD url", and while `pattern` is set, the answers of
    /// the calls whose "METHOD url" contains it are held back, their requests already sent,
    /// until [`Browser::release`]. `None` stops holding new calls (held ones stay held).
    async fn hold(&self, pattern: Option<&str>) {
        const WRAP: &str = "
            if (!window.podkeysTest) {
              var real = window.fetch;
              var t = window.podkeysTest = { calls: [], pattern: null };
              window.fetch = function (url, init) {
                var call = { what: ((init && init.method) || 'GET') + ' ' + url,
                             held: false, handled: false };
                t.calls.push(call);
                // Marked after the page's own handlers of the answer have run: they are
                // promise callbacks, all done before the next task.
                var handled = function () { setTimeout(function () { call.handled = true; }); };
                var answer = real.apply(this, arguments).then(function (resp) {
                  var text = resp.text.bind(resp);
                  resp.text = function () { var p = text(); p.then(handled, handled); return p; };
                  return resp;
                }, function (e) { handled(); throw e; });
                if (!t.pattern || call.what.indexOf(t.pattern) < 0) return answer;
                call.held = true;
                return new Promise(function (resolve) {
                  call.release = function () { call.release = null; resolve(answer); };
                });
              };
            }
            window.podkeysTest.pattern = arguments[0];
            return true;";
        self.client
            .execute(WRAP, vec![json!(pattern)])
            .await
            .expect("fetch wrapped");
    }

    /// Waits until an answer is held back.
    async fn holding(&self) {
        self.until(
            "a held answer",
            "return podkeysTest.calls.some(function (c) { return c.release; });",
        )
        .await;
    }

    /// Lets every held answer through, in the order the calls were made, and waits until the
    /// page has handled each of them.
    async fn release(&self) {
        self.js(
            "podkeysTest.calls.forEach(function (c) { if (c.release) c.release(); }); return true;",
        )
        .await;
        self.until(
            "the released answers to be handled",
            "return podkeysTest.calls.every(function (c) { return !c.held || c.handled; });",
        )
        .await;
    }

    /// How many calls the page made whose "METHOD url" contains `pattern`.
    async fn calls(&self, pattern: &str) -> usize {
        let n = self
            .client
            .execute(
                "var pattern = arguments[0]; \
                 return podkeysTest.calls.filter(function (c) { \
                   return c.what.indexOf(pattern) >= 0; }).length;",
                vec![json!(pattern)],
            )
            .await
            .expect("script runs");
        n.as_u64()
            .and_then(|n| usize::try_from(n).ok())
            .unwrap_or_default()
    }

    /// The `data-key-id`s of the table's rows, top to bottom.
    async fn row_ids(&self) -> Vec<String> {
        let ids = self
            .js(
                "return Array.prototype.map.call(document.querySelectorAll('#key-rows tr'), \
                   function (tr) { return tr.getAttribute('data-key-id'); });",
            )
            .await;
        ids.as_array()
            .expect("a list")
            .iter()
            .map(|v| v.as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// Chooses `value` in the status filter, as a user does.
    async fn filter(&self, value: &str) {
        self.client
            .find(Locator::Css("#status-filter"))
            .await
            .expect("the status filter")
            .select_by_value(value)
            .await
            .unwrap_or_else(|e| panic!("choose {value:?}: {e}"));
    }

    /// The Activity view's rows, top to bottom, as shown: action badge, target key id and
    /// name, actor and its key id, the changes listed in Details, and the source IP.
    async fn activity(&self) -> Vec<Value> {
        let rows = self.js(&format!("{ACTIVITY_ROWS} return rows;")).await;
        rows.as_array().expect("a list").clone()
    }

    /// Chooses `value` in the `css` select, as a user does.
    async fn choose(&self, css: &str, value: &str) {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"))
            .select_by_value(value)
            .await
            .unwrap_or_else(|e| panic!("choose {value:?} in {css}: {e}"));
    }

    /// The `data-key-id` row's status badge text, once the row exists.
    async fn status_of(&self, id: &str) -> String {
        let js = format!(
            "var b = document.querySelector('tr[data-key-id=\"{id}\"] .badge'); \
             return b ? b.textContent : null;"
        );
        self.until(&format!("the row of {id}"), &js)
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }
}

/// Script that sets `rows` to the Activity view's rows, as [`Browser::activity`] returns them.
const ACTIVITY_ROWS: &str = "
    var rows = Array.prototype.map.call(document.querySelectorAll('#activity-rows tr'),
      function (tr) {
        var text = function (css) { var e = tr.querySelector(css); return e ? e.textContent : null; };
        return { id: tr.getAttribute('data-event-id'), action: text('.badge'),
                 key: text('.target .key-id'), name: text('.target .name'),
                 actor: text('.actor .who'), actor_key: text('.actor .key-id'),
                 changes: Array.prototype.map.call(tr.querySelectorAll('.details .change'),
                   function (c) { return c.textContent; }),
                 ip: text('td.ip') };
      });";

const ENTER: &str = "\u{E007}";
const ESCAPE: &str = "\u{E00C}";
const XSS_NAME: &str = "<img src=x onerror=alert(1)>";

async fn podcast_status(s: &Stack, key: &str) -> (u16, Value) {
    let r = s
        .send("GET", "/api/v1/podcasts/42", &[("Api-Key", key)], None)
        .await;
    (r.status, r.body)
}

/// The secret dialog's key, once it is open.
async fn read_new_key(b: &Browser) -> String {
    b.until(
        "the new-key dialog",
        "return document.getElementById('secret-dialog').open && \
         document.getElementById('secret-value').value;",
    )
    .await
    .as_str()
    .unwrap_or_default()
    .to_owned()
}

async fn assert_no_secret_at_rest(b: &Browser, secrets: &[&str]) {
    let stored = b
        .js("var out = [document.cookie, location.href, document.documentElement.outerHTML];
             for (var i = 0; i < localStorage.length; i++) out.push(localStorage.key(i), localStorage.getItem(localStorage.key(i)));
             for (var j = 0; j < sessionStorage.length; j++) out.push(sessionStorage.key(j), sessionStorage.getItem(sessionStorage.key(j)));
             return {all: out.join('\\n'), local: localStorage.length, cookie: document.cookie};")
        .await;
    assert_eq!(stored["local"], 0, "nothing in localStorage");
    assert_eq!(stored["cookie"], "", "no cookies");
    let cookies = b.client.get_all_cookies().await.expect("cookies");
    assert!(cookies.is_empty(), "{cookies:?}");
    let all = stored["all"].as_str().unwrap_or_default();
    for secret in secrets {
        assert!(
            !all.contains(secret),
            "a key is in storage, cookies, the URL or the DOM"
        );
    }
}

/// Everything the page loaded or called came from its own origin: no CDN, no third party.
async fn assert_same_origin_only(b: &Browser) {
    let loaded = b
        .js(
            "return performance.getEntriesByType('resource').map(function (e) { return e.name; }) \
               .concat([location.href]);",
        )
        .await;
    let origin = b.js("return location.origin;").await;
    let origin = origin.as_str().expect("an origin");
    let urls = loaded.as_array().expect("a list");
    assert!(urls.len() > 2, "{urls:?}");
    for url in urls {
        let url = url.as_str().unwrap_or_default();
        assert!(
            url.starts_with(&format!("{origin}/")) || url.starts_with("data:"),
            "{url} is not from {origin}"
        );
    }
}

#[tokio::test]
async fn the_console_manages_keys_in_a_real_browser() {
    let s = stack("console").await;
    let (admin, _) = s.app.seed_key("admin", &["*", "admin"]).await;
    let b = Browser::start("console").await;
    let console = format!("{}/console", s.base());
    b.client.goto(&console).await.expect("open the console");
    b.until(
        "the sign-in form",
        "return document.activeElement.id === 'sign-in-key';",
    )
    .await;
    b.screenshot("console-sign-in").await;

    // Sign in with the keyboard only: the key field has focus, Enter submits.
    b.type_into("#sign-in-key", &format!("{admin}{ENTER}"))
        .await;
    let owner = b
        .until(
            "who am I",
            "return !document.getElementById('who').hidden && \
             document.getElementById('who-owner').textContent;",
        )
        .await;
    assert_eq!(owner, "admin");
    assert_eq!(
        b.js("return document.getElementById('who-admin').hidden;")
            .await,
        false,
        "the admin badge shows"
    );
    assert_eq!(
        b.js("return document.getElementById('sign-in-key').value;")
            .await,
        "",
        "the pasted key does not linger in the field"
    );

    // Create a key in the dialog, keyboard first: focus lands on the name, Escape cancels.
    b.click("#new-key").await;
    b.until(
        "the create dialog",
        "return document.activeElement.id === 'create-name';",
    )
    .await;
    b.type_into("#create-name", ESCAPE).await;
    b.until(
        "the dialog to close",
        "return !document.getElementById('create-dialog').open;",
    )
    .await;
    b.click("#new-key").await;
    b.type_into("#create-name", "browser-made").await;
    b.type_into("#create-description", "made in a real browser")
        .await;
    b.click("#scope-_").await; // untick "*"
    b.click("#scope-podcasts_read").await;
    b.type_into("#create-expiry", "30").await;
    b.click("#create-form button[type=submit]").await;
    let made = read_new_key(&b).await;
    assert!(made.starts_with("pod_"), "{made}");
    let warning = b
        .js("return document.querySelector('#secret-dialog .warning').textContent;")
        .await;
    assert!(
        warning
            .as_str()
            .is_some_and(|w| w.contains("won't see it again")),
        "{warning}"
    );
    b.screenshot("console-new-key").await;
    b.click("#copy").await;
    b.until(
        "the copy outcome",
        "return document.getElementById('copy-status').textContent;",
    )
    .await;
    b.click("#secret-done").await;
    b.until(
        "the dialog to close",
        "return !document.getElementById('secret-dialog').open;",
    )
    .await;
    assert_eq!(
        b.js("return document.getElementById('secret-value').value;")
            .await,
        "",
        "the dialog forgets the key when closed"
    );

    // The key works over plain HTTP, with the scopes chosen in the dialog.
    let (status, body) = podcast_status(&s, &made).await;
    assert_eq!(status, 200, "{body}");
    let me = s
        .send("GET", "/api/v1/auth/me", &[("X-API-Key", &made)], None)
        .await;
    assert_eq!(me.body["scopes"], json!(["podcasts:read"]), "{}", me.text);
    assert_eq!(me.body["key"]["description"], "made in a real browser");
    let made_id = me.body["key"]["id"].as_str().expect("id").to_owned();

    // It is in the list, active, with the owner column for an admin.
    assert_eq!(b.status_of(&made_id).await, "active");
    let owner_cell = b
        .js(&format!(
            "var c = document.querySelector('tr[data-key-id=\"{made_id}\"] td.owner-col'); \
             return [c.textContent, getComputedStyle(c).display];"
        ))
        .await;
    assert_eq!(owner_cell, json!(["admin", "table-cell"]));

    // A name that looks like markup is shown as text, and nothing runs.
    b.click("#new-key").await;
    b.type_into("#create-name", XSS_NAME).await;
    b.click("#create-form button[type=submit]").await;
    let xss_key = read_new_key(&b).await;
    b.click("#secret-done").await;
    let shown = b
        .until(
            "the markup-named row",
            "var cells = Array.prototype.map.call(document.querySelectorAll('#key-rows td.name'), \
             function (c) { return c.textContent; }); \
             return cells.indexOf('<img src=x onerror=alert(1)>') >= 0 \
             && document.querySelectorAll('#key-rows img').length === 0 && cells;",
        )
        .await;
    assert!(shown.to_string().contains("onerror"), "{shown}");
    assert_eq!(
        b.js("return document.querySelectorAll('img').length;")
            .await,
        0
    );

    // Rotate it with no grace: a new key is shown once, the old one stops at once.
    b.click(&format!("tr[data-key-id=\"{made_id}\"] button.rotate"))
        .await;
    let text = b
        .until("the rotate confirmation", "return document.getElementById('confirm-dialog').open && document.getElementById('confirm-text').textContent;")
        .await;
    assert!(
        text.as_str()
            .is_some_and(|t| t.contains("You will see the new key once"))
    );
    b.js("var g = document.getElementById('grace'); g.value = '0'; return true;")
        .await;
    b.click("#confirm-ok").await;
    let rotated = read_new_key(&b).await;
    assert!(rotated.starts_with("pod_") && rotated != made);
    b.click("#secret-done").await;
    assert_ne!(b.status_of(&made_id).await, "active");
    let (status, body) = podcast_status(&s, &made).await;
    assert_eq!(status, 403, "{body}");
    let (status, _) = podcast_status(&s, &rotated).await;
    assert_eq!(status, 200);
    let rotated_id = s
        .send("GET", "/api/v1/auth/me", &[("X-API-Key", &rotated)], None)
        .await
        .body["key"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    b.screenshot("console-list").await;

    // Revoke the new key through the confirmation dialog; the row turns revoked and the key
    // gets 403 key_revoked on its very next request.
    b.click(&format!("tr[data-key-id=\"{rotated_id}\"] button.revoke"))
        .await;
    let text = b
        .until("the revoke confirmation", "return document.getElementById('confirm-dialog').open && document.getElementById('confirm-text').textContent;")
        .await;
    assert!(text.as_str().is_some_and(|t| t.contains("403")), "{text}");
    b.screenshot("console-revoke-confirm").await;
    b.click("#confirm-ok").await;
    b.until(
        "the revoked status",
        &format!(
            "var b = document.querySelector('tr[data-key-id=\"{rotated_id}\"] .badge'); \
             return b && b.textContent === 'revoked';"
        ),
    )
    .await;
    let (status, body) = podcast_status(&s, &rotated).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("key_revoked"))
    );

    // An API error is shown with the API's own message.
    b.click("#new-key").await;
    b.type_into("#create-name", "   ").await;
    b.click("#create-form button[type=submit]").await;
    let error = b
        .until(
            "the create error",
            "return document.getElementById('create-error').textContent;",
        )
        .await;
    assert!(
        error.as_str().is_some_and(|e| e.contains("name")),
        "{error}"
    );
    b.type_into("#create-name", ESCAPE).await;

    assert_same_origin_only(&b).await;

    // No key ever rests in storage, cookies, the URL or the page.
    assert_no_secret_at_rest(&b, &[&admin, &made, &rotated, &xss_key]).await;

    // A phone-sized screen: the table becomes cards.
    b.client.set_window_size(390, 844).await.expect("resize");
    let display = b
        .js("return getComputedStyle(document.querySelector('#key-table thead')).display;")
        .await;
    assert_eq!(display, "none");
    b.screenshot("console-phone").await;

    // Sign out forgets everything.
    b.click("#sign-out").await;
    b.until(
        "the sign-in form again",
        "return !document.getElementById('sign-in').hidden;",
    )
    .await;
    assert_eq!(
        b.js("return document.getElementById('key-rows').children.length;")
            .await,
        0
    );
    assert_no_secret_at_rest(&b, &[&admin, &made, &rotated, &xss_key]).await;
    b.client.clone().close().await.expect("close the session");
}

#[tokio::test]
async fn the_api_reference_shows_every_operation() {
    let s = stack("apidocs").await;
    let served = s.send("GET", "/api/openapi.json", &[], None).await;
    assert_eq!(served.status, 200, "{}", served.text);
    let mut operations = Vec::new();
    for (path, item) in served.body["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("operations").keys() {
            operations.push(format!("{} {path}", method.to_uppercase()));
        }
    }
    assert!(operations.len() >= 10, "{operations:?}");

    let b = Browser::start("apidocs").await;
    b.client
        .goto(&format!("{}/api/docs", s.base()))
        .await
        .expect("open the docs");
    let count = b
        .until(
            "Swagger UI to render the operations",
            "return document.querySelectorAll('.opblock').length;",
        )
        .await;
    let shown = b
        .js("return Array.prototype.map.call(document.querySelectorAll('.opblock'), function (o) { \
               var m = o.querySelector('.opblock-summary-method'); \
               var p = o.querySelector('.opblock-summary-path'); \
               return (m ? m.textContent : '') + ' ' + (p ? p.getAttribute('data-path') || p.textContent : ''); });")
        .await;
    let shown: Vec<String> = shown
        .as_array()
        .expect("a list")
        .iter()
        .map(|v| v.as_str().unwrap_or_default().replace('\u{200b}', ""))
        .collect();
    assert_eq!(count, json!(operations.len()), "{shown:?}");
    for op in &operations {
        assert!(shown.iter().any(|s| s == op), "{op} not shown in {shown:?}");
    }
    assert_same_origin_only(&b).await;
    // The three ways to send a key are offered by the Authorize dialog.
    let schemes = b
        .js("return document.querySelector('.btn.authorize') !== null;")
        .await;
    assert_eq!(schemes, true);
    b.screenshot("api-docs").await;
    b.client.clone().close().await.expect("close the session");
}

/// Signs out, signs in with `key` (Enter), and returns the message the page then shows.
async fn sign_in_again(b: &Browser, key: &str) -> String {
    b.click("#sign-out").await;
    b.type_into("#sign-in-key", &format!("{key}{ENTER}")).await;
    b.until(
        "a message",
        "return document.getElementById('message').textContent;",
    )
    .await
    .as_str()
    .unwrap_or_default()
    .to_owned()
}

#[tokio::test]
async fn a_standard_user_sees_only_their_own_keys_and_no_admin_controls() {
    let s = stack("consoleuser").await;
    let (alice, alice_key) = s.app.seed_key("alice", &["keys:read", "keys:write"]).await;
    let (_, bob_key) = s.app.seed_key("bob", &["*"]).await;
    // The listing reads an index; let it catch up with the seeded keys first.
    testkit::settle(&s.app.state.store).await;
    audit_settled(&s, &alice, 1).await;
    let b = Browser::start("consoleuser").await;
    b.client
        .goto(&format!("{}/console", s.base()))
        .await
        .expect("open the console");
    b.type_into("#sign-in-key", &format!("{alice}{ENTER}"))
        .await;
    b.until(
        "alice's list",
        &format!(
            "return document.querySelector('tr[data-key-id=\"{}\"]') !== null;",
            alice_key.id.as_str()
        ),
    )
    .await;
    let view = b
        .js(&format!(
            "return {{ admin: !document.getElementById('who-admin').hidden, \
                      owner: document.getElementById('create-owner-field').hidden, \
                      ownerCol: getComputedStyle(document.querySelector('th.owner-col')).display, \
                      bob: document.querySelector('tr[data-key-id=\"{}\"]') !== null, \
                      rows: document.getElementById('key-rows').children.length }};",
            bob_key.id.as_str()
        ))
        .await;
    assert_eq!(
        view,
        json!({"admin": false, "owner": true, "ownerCol": "none", "bob": false, "rows": 1})
    );
    // Her activity: the events of her own key, none of bob's; her key is the one key to filter by.
    let alice_id = alice_key.id.as_str();
    let shown = b
        .until(
            "alice's activity",
            &format!("{ACTIVITY_ROWS} return rows.length > 0 && rows;"),
        )
        .await;
    let shown = shown.as_array().expect("rows");
    assert!(
        shown.iter().all(|r| r["key"] == alice_id),
        "only alice's key: {shown:?}"
    );
    assert!(
        !serde_json::to_string(shown)
            .expect("json")
            .contains(bob_key.id.as_str()),
        "nothing of bob's: {shown:?}"
    );
    let choices = b
        .js(
            "return Array.prototype.map.call(document.getElementById('activity-key').options, \
               function (o) { return o.value; });",
        )
        .await;
    assert_eq!(choices, json!(["", alice_id]));

    // A key that may not list keys can still sign in; the list says why it is empty.
    let (reader, _) = s.app.seed_key("carol", &["podcasts:read"]).await;
    let message = sign_in_again(&b, &reader).await;
    assert!(message.starts_with("Could not list keys:"), "{message}");
    // A wrong key is refused with the API's message and leaves nothing behind.
    let message = sign_in_again(&b, "pod_notakey").await;
    assert!(message.contains("valid API key is required"), "{message}");
    assert_eq!(
        b.js("return document.getElementById('sign-in').hidden;")
            .await,
        false
    );
    b.client.clone().close().await.expect("close the session");
}

/// Opens the console and signs in with `key` (Enter), once the first listing has rendered.
async fn sign_in(b: &Browser, s: &Stack, key: &str) {
    b.client
        .goto(&format!("{}/console", s.base()))
        .await
        .expect("open the console");
    b.type_into("#sign-in-key", &format!("{key}{ENTER}")).await;
    b.until(
        "the first listing",
        "return !document.getElementById('keys').hidden && \
         (document.getElementById('key-rows').children.length > 0 || \
          !document.getElementById('empty').hidden);",
    )
    .await;
}

/// The ids of the keys named `name`, as the API lists them to `admin`.
async fn ids_named(s: &Stack, admin: &str, name: &str) -> Vec<String> {
    let r = s
        .send(
            "GET",
            "/api/v1/auth/api-keys?limit=100",
            &[("X-API-Key", admin)],
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body
        .as_array()
        .expect("a list of keys")
        .iter()
        .filter(|k| k["name"] == name)
        .map(|k| k["id"].as_str().expect("an id").to_owned())
        .collect()
}

async fn id_of(s: &Stack, key: &str) -> String {
    let me = s
        .send("GET", "/api/v1/auth/me", &[("X-API-Key", key)], None)
        .await;
    assert_eq!(me.status, 200, "{}", me.text);
    me.body["key"]["id"].as_str().expect("id").to_owned()
}

#[tokio::test]
async fn a_double_submit_of_the_create_dialog_mints_one_key() {
    let s = stack("doublecreate").await;
    let (admin, _) = s.app.seed_key("admin", &["*", "admin"]).await;
    let b = Browser::start("doublecreate").await;
    sign_in(&b, &s, &admin).await;

    // The create answers are held back until both submits are in, so the second one always
    // lands while the first request is in flight, however fast the server is.
    b.hold(Some("POST ")).await;
    for (name, twice) in [("entered-twice", "Enter"), ("clicked-twice", "click")] {
        let sent = b.calls("POST ").await;
        b.click("#new-key").await;
        b.type_into("#create-name", name).await;
        if twice == "Enter" {
            b.type_into("#create-name", &format!("{ENTER}{ENTER}"))
                .await;
        } else {
            b.click("#create-ok").await;
            b.click("#create-ok").await;
        }
        b.holding().await;
        let in_flight = b
            .js("return document.getElementById('create-ok').disabled;")
            .await;
        b.screenshot(&format!("console-create-in-flight-{twice}"))
            .await;
        b.release().await;
        let shown = read_new_key(&b).await;
        b.click("#secret-done").await;

        let made = ids_named(&s, &admin, name).await;
        assert_eq!(made.len(), 1, "{twice} twice minted {made:?}");
        assert_eq!(
            id_of(&s, &shown).await,
            made[0],
            "the key shown is the one made"
        );
        assert_eq!(b.calls("POST ").await, sent + 1, "one create request");
        assert_eq!(
            in_flight, true,
            "Create is disabled while its request is in flight"
        );
        let rows = b
            .js(&format!(
                "return Array.prototype.filter.call(document.querySelectorAll('#key-rows td.name'), \
                 function (c) {{ return c.textContent === '{name}'; }}).length;"
            ))
            .await;
        assert_eq!(rows, 1, "one row for {name}");
    }

    // The answer re-enables the button, an error as much as a success.
    b.hold(None).await;
    b.click("#new-key").await;
    assert_eq!(
        b.js("return document.getElementById('create-ok').disabled;")
            .await,
        false
    );
    b.type_into("#create-name", &format!("   {ENTER}")).await;
    b.until(
        "the create error",
        "return document.getElementById('create-error').textContent;",
    )
    .await;
    assert_eq!(
        b.js("return document.getElementById('create-ok').disabled;")
            .await,
        false,
        "Create is enabled again after an error"
    );
    b.client.clone().close().await.expect("close the session");
}

#[tokio::test]
async fn a_double_confirm_rotates_once_and_revokes_with_one_request() {
    let s = stack("doubleconfirm").await;
    let (admin, _) = s.app.seed_key("admin", &["*", "admin"]).await;
    let victim = s.app.seed("alice", &["podcasts:read"]).await;
    let victim = victim.id.as_str().to_owned();
    testkit::settle(&s.app.state.store).await;
    let b = Browser::start("doubleconfirm").await;
    sign_in(&b, &s, &admin).await;

    // Rotate, confirmed with two quick clicks while the first rotation is on its way.
    b.hold(Some("/rotate")).await;
    b.click(&format!("tr[data-key-id=\"{victim}\"] button.rotate"))
        .await;
    b.until(
        "the rotate confirmation",
        "return document.getElementById('confirm-dialog').open;",
    )
    .await;
    b.click("#confirm-ok").await;
    b.click("#confirm-ok").await;
    b.holding().await;
    let rotating = b
        .js("return document.getElementById('confirm-ok').disabled;")
        .await;
    b.release().await;
    let rotated = read_new_key(&b).await;
    b.click("#secret-done").await;
    assert_eq!(b.calls("/rotate").await, 1, "one rotation request");
    assert_eq!(
        rotating, true,
        "the confirm button is disabled while rotating"
    );
    let successor = id_of(&s, &rotated).await;
    let mut family = ids_named(&s, &admin, "alice's key").await;
    family.sort();
    let mut expected = vec![victim.clone(), successor.clone()];
    expected.sort();
    assert_eq!(family, expected, "the old key and one successor");
    assert_eq!(
        b.js("return document.getElementById('message').hidden \
                && document.getElementById('confirm-error').hidden;")
            .await,
        true,
        "no error for a second rotation"
    );

    // Revoke the successor, confirmed with Enter twice on the focused confirm button.
    b.hold(Some("DELETE ")).await;
    b.click(&format!("tr[data-key-id=\"{successor}\"] button.revoke"))
        .await;
    b.until(
        "the revoke confirmation, focused on its button",
        "return document.getElementById('confirm-dialog').open \
                && document.activeElement.id === 'confirm-ok';",
    )
    .await;
    b.type_into("#confirm-ok", &format!("{ENTER}{ENTER}")).await;
    b.holding().await;
    let revoking = b
        .js("return document.getElementById('confirm-ok').disabled;")
        .await;
    b.release().await;
    assert_eq!(b.status_of(&successor).await, "revoked");
    assert_eq!(b.calls("DELETE ").await, 1, "one revoke request");
    assert_eq!(
        revoking, true,
        "the confirm button is disabled while revoking"
    );
    assert_eq!(
        b.js("return document.getElementById('confirm-dialog').open \
                || document.getElementById('confirm-ok').disabled;")
            .await,
        false,
        "the answer closes the dialog and re-enables its button"
    );
    b.client.clone().close().await.expect("close the session");
}

#[tokio::test]
async fn a_slow_older_listing_never_replaces_a_newer_one() {
    let s = stack("listingrace").await;
    let (admin, _) = s.app.seed_key("admin", &["*", "admin"]).await;
    // More active keys than one page (50) holds, and one revoked key.
    for _ in 0..52 {
        s.app.seed("alice", &["podcasts:read"]).await;
    }
    let gone = s.app.seed("bob", &["podcasts:read"]).await;
    let gone = gone.id.as_str().to_owned();
    let r = s
        .send(
            "DELETE",
            &format!("/api/v1/auth/api-keys/{gone}"),
            &[("X-API-Key", &admin)],
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    testkit::settle(&s.app.state.store).await;
    let b = Browser::start("listingrace").await;
    sign_in(&b, &s, &admin).await;
    assert_eq!(b.row_ids().await.len(), 50, "the first page");

    // Active, then revoked; the answer for "active" arrives last.
    b.hold(Some("status=active")).await;
    b.filter("active").await;
    b.holding().await;
    b.hold(None).await;
    b.filter("revoked").await;
    b.until(
        "the revoked listing",
        &format!(
            "return document.getElementById('key-rows').children.length === 1 && \
             document.querySelector('tr[data-key-id=\"{gone}\"]') !== null;"
        ),
    )
    .await;
    b.release().await;
    b.screenshot("console-listing-race").await;
    assert_eq!(
        b.row_ids().await,
        [gone.as_str()],
        "the newer (revoked) listing stays"
    );
    assert_eq!(
        b.js("return document.getElementById('more').hidden;").await,
        true,
        "no \"Load more\" of the older listing"
    );

    // "Load more" of all keys, answered after the revoked listing replaced it: dropped.
    b.filter("").await;
    b.until(
        "the first page of all keys",
        "return document.getElementById('key-rows').children.length === 50 && \
         !document.getElementById('more').hidden;",
    )
    .await;
    b.hold(Some("cursor=")).await;
    b.click("#more").await;
    b.holding().await;
    b.hold(None).await;
    b.filter("revoked").await;
    b.until(
        "the revoked listing",
        "return document.getElementById('key-rows').children.length === 1;",
    )
    .await;
    b.release().await;
    assert_eq!(
        b.row_ids().await,
        [gone.as_str()],
        "the page of the older listing is not appended"
    );

    // And "Load more" of the latest listing still works, once however often it is clicked.
    b.filter("").await;
    b.until(
        "the first page of all keys",
        "return document.getElementById('key-rows').children.length === 50 && \
         !document.getElementById('more').hidden;",
    )
    .await;
    let pages = b.calls("cursor=").await;
    b.hold(Some("cursor=")).await;
    b.click("#more").await;
    b.click("#more").await;
    b.holding().await;
    b.release().await;
    let ids = b.row_ids().await;
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!((ids.len(), unique.len()), (54, 54), "every key once");
    assert_eq!(
        b.calls("cursor=").await,
        pages + 1,
        "one request for the next page"
    );
    b.client.clone().close().await.expect("close the session");
}

/// SPEC §16: one click makes a feed key; the console shows its ready-to-paste feed URL once,
/// with the key, and forgets both when the dialog closes; the URL works without headers.
#[tokio::test]
async fn a_feed_key_is_one_click_and_its_url_is_shown_once() {
    let s = stack("feedkey").await;
    let (admin, _) = s.app.seed_key("admin", &["*", "admin"]).await;
    let b = Browser::start("feedkey").await;
    sign_in(&b, &s, &admin).await;

    b.click("#new-feed-key").await;
    b.until(
        "the feed-key dialog",
        "return document.getElementById('create-dialog').open && \
         document.getElementById('create-scopes-field').hidden && \
         !document.getElementById('create-feed-note').hidden;",
    )
    .await;
    b.type_into("#create-name", &format!("AntennaPod{ENTER}"))
        .await;
    let key = read_new_key(&b).await;
    let url = b
        .until(
            "the feed URL",
            "return !document.getElementById('feed-url-field').hidden && \
             document.getElementById('feed-url').value;",
        )
        .await;
    let url = url.as_str().expect("a URL").to_owned();
    let origin = b.js("return location.origin;").await;
    let origin = origin.as_str().expect("origin");
    assert_eq!(
        url,
        format!("{origin}/api/v1/feeds/{{feed}}?api_key={key}"),
        "the example path with the key"
    );
    b.screenshot("console-feed-key").await;

    // The URL works as a podcast app would use it: no headers at all.
    let path = url.trim_start_matches(origin).replace("{feed}", "42");
    let fetched = s.send("GET", &path, &[], None).await;
    assert_eq!(fetched.status, 200, "{}", fetched.text);
    assert_eq!(fetched.body["query"], "api_key=redacted");

    let listed = s
        .send(
            "GET",
            "/api/v1/auth/api-keys?limit=100",
            &[("X-API-Key", &admin)],
            None,
        )
        .await;
    let made: Vec<&Value> = listed
        .body
        .as_array()
        .expect("keys")
        .iter()
        .filter(|k| k["name"] == "AntennaPod")
        .collect();
    assert_eq!(made.len(), 1);
    assert_eq!(made[0]["scopes"], json!(["feeds:read"]));

    b.click("#secret-done").await;
    b.until(
        "the dialog to close and forget",
        "return !document.getElementById('secret-dialog').open && \
         document.getElementById('feed-url').value === '' && \
         document.getElementById('feed-url-field').hidden;",
    )
    .await;
    assert_no_secret_at_rest(&b, &[&key, &key[8..]]).await;

    // The ordinary dialog still offers every scope, feeds:read among them.
    b.click("#new-key").await;
    b.until(
        "the ordinary dialog",
        "return document.getElementById('create-dialog').open && \
         !document.getElementById('create-scopes-field').hidden && \
         Boolean(document.getElementById('scope-feeds_read'));",
    )
    .await;
}

/// SPEC §3 PATCH in the console: rename and narrow a key from its row; the API's answer
/// replaces the row; admins also change the plan.
#[tokio::test]
async fn a_key_is_renamed_narrowed_and_moved_to_another_plan_from_its_row() {
    let s = stack("editkey").await;
    let (admin, _) = s.app.seed_key("admin", &["*", "admin"]).await;
    let made = s
        .create(
            &admin,
            json!({"name": "phone", "scopes": ["podcasts:read", "keys:read"]}),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.text);
    let id = made.body["id"].as_str().expect("id").to_owned();
    let b = Browser::start("editkey").await;
    sign_in(&b, &s, &admin).await;

    b.click(&format!("tr[data-key-id=\"{id}\"] button.edit"))
        .await;
    b.until(
        "the edit dialog",
        "return document.getElementById('edit-dialog').open && \
         !document.getElementById('edit-plan-field').hidden;",
    )
    .await;
    b.js(
        "var n = document.getElementById('edit-name'); n.value = ''; \
          var p = document.getElementById('edit-plan'); p.value = 'pro'; \
          document.querySelector('#edit-scopes input[value=\"keys:read\"]').click(); \
          return true;",
    )
    .await;
    b.type_into("#edit-name", "old phone").await;
    b.screenshot("console-edit-key").await;
    b.click("#edit-ok").await;
    b.until(
        "the row to show the change",
        &format!(
            "var r = document.querySelector('tr[data-key-id=\"{id}\"]'); \
             return !document.getElementById('edit-dialog').open && r && \
               r.querySelector('.name').textContent === 'old phone' && \
               r.textContent.indexOf('pro') >= 0;"
        ),
    )
    .await;
    let stored = s
        .send(
            "GET",
            &format!("/api/v1/auth/api-keys/{id}"),
            &[("X-API-Key", &admin)],
            None,
        )
        .await;
    assert_eq!(stored.body["name"], "old phone");
    assert_eq!(stored.body["scopes"], json!(["podcasts:read"]));
    assert_eq!(stored.body["plan"], "pro");
}

/// Waits until `key` reads at least `n` events from the audit log, which is read from an
/// eventually consistent index.
async fn audit_settled(s: &Stack, key: &str, n: usize) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let r = s
            .send(
                "GET",
                "/api/v1/auth/audit-log?limit=100",
                &[("X-API-Key", key)],
                None,
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let got = r.body.as_array().map_or(0, Vec::len);
        if got >= n {
            return;
        }
        assert!(Instant::now() < deadline, "{got} of {n} audit events");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The `action` and target `key` of Activity rows.
fn actions_of<'a>(rows: impl IntoIterator<Item = &'a Value>) -> Vec<(String, String)> {
    rows.into_iter()
        .map(|r| {
            let text = |f: &str| r[f].as_str().unwrap_or_default().to_owned();
            (text("action"), text("key"))
        })
        .collect()
}

/// SPEC §11 in the console: the Activity view pages the audit log with "Load more", reloads
/// after each change the console makes (newest first), filters by action, and by key from
/// the key's row.
#[tokio::test]
async fn the_activity_view_shows_what_the_console_did_to_a_key() {
    let s = stack("activity").await;
    let (admin, admin_key) = s.app.seed_key("admin", &["*", "admin"]).await;
    // More events than a page (50) holds: 51 keys seeded.
    for _ in 0..50 {
        s.app.seed("bob", &["podcasts:read"]).await;
    }
    testkit::settle(&s.app.state.store).await;
    audit_settled(&s, &admin, 51).await;
    let b = Browser::start("activity").await;
    sign_in(&b, &s, &admin).await;

    // The first page, then the next one, from the Link header.
    b.until(
        "the first page of activity",
        "return document.getElementById('activity-rows').children.length === 50 && \
         !document.getElementById('activity-more').hidden;",
    )
    .await;
    b.click("#activity-more").await;
    b.until(
        "the second page of activity",
        "return document.getElementById('activity-rows').children.length === 51 && \
         document.getElementById('activity-more').hidden;",
    )
    .await;
    let mut ids: Vec<String> = b
        .activity()
        .await
        .iter()
        .map(|r| r["id"].as_str().unwrap_or_default().to_owned())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 51, "every event once");

    // Create a key, rename it from its row, revoke it.
    b.click("#new-key").await;
    b.type_into("#create-name", "audited").await;
    b.click("#create-ok").await;
    let made = read_new_key(&b).await;
    b.click("#secret-done").await;
    let id = id_of(&s, &made).await;
    let row = format!("tr[data-key-id=\"{id}\"]");
    b.click(&format!("{row} button.edit")).await;
    b.until(
        "the edit dialog",
        "return document.getElementById('edit-dialog').open;",
    )
    .await;
    b.js("document.getElementById('edit-name').value = ''; return true;")
        .await;
    b.type_into("#edit-name", "audited, renamed").await;
    b.click("#edit-ok").await;
    b.until(
        "the renamed row",
        &format!(
            "var r = document.querySelector('{row}'); \
             return !document.getElementById('edit-dialog').open && r && \
               r.querySelector('.name').textContent === 'audited, renamed';"
        ),
    )
    .await;
    b.click(&format!("{row} button.revoke")).await;
    b.until(
        "the revoke confirmation",
        "return document.getElementById('confirm-dialog').open;",
    )
    .await;
    b.click("#confirm-ok").await;
    b.until(
        "the revoked status",
        &format!(
            "var b = document.querySelector('{row} .badge'); \
             return b && b.textContent === 'revoked';"
        ),
    )
    .await;

    // The view reloaded: the key's three events, newest first, on top of the log.
    let shown = b
        .until(
            "the key's three events",
            &format!(
                "{ACTIVITY_ROWS} return rows.filter(function (r) {{ \
                   return r.key === '{id}'; }}).length === 3 && rows;"
            ),
        )
        .await;
    let shown = shown.as_array().expect("rows");
    let expected: Vec<(String, String)> = ["key.revoked", "key.updated", "key.created"]
        .iter()
        .map(|a| ((*a).to_owned(), id.clone()))
        .collect();
    assert_eq!(actions_of(shown.iter().take(3)), expected, "{shown:?}");
    let updated = &shown[1];
    assert_eq!(
        updated["changes"],
        json!(["name: audited → audited, renamed"])
    );
    assert_eq!(updated["name"], "audited, renamed");
    assert_eq!(updated["actor"], "admin");
    assert_eq!(updated["actor_key"], admin_key.id.as_str());
    assert_eq!(updated["ip"], "127.0.0.1");
    assert_eq!(shown[2]["name"], "audited");

    // Only the revocations.
    b.choose("#activity-action", "key.revoked").await;
    b.until(
        "the revocations",
        &format!("{ACTIVITY_ROWS} return rows.length === 1 && rows[0].action === 'key.revoked';"),
    )
    .await;
    assert_eq!(
        actions_of(&b.activity().await),
        [("key.revoked".to_owned(), id.clone())]
    );

    // The key's row filters the view to that key, every action.
    b.click(&format!("{row} button.activity")).await;
    let shown = b
        .until(
            "the key's own events",
            &format!(
                "{ACTIVITY_ROWS} return rows.length === 3 && rows.every(function (r) {{ \
                   return r.key === '{id}'; }}) && rows;"
            ),
        )
        .await;
    assert_eq!(
        actions_of(shown.as_array().expect("rows")),
        expected,
        "{shown}"
    );
    let filters = b
        .js("var k = document.getElementById('activity-key'); \
             return [document.getElementById('activity-action').value, k.value, \
                     k.options[k.selectedIndex].textContent];")
        .await;
    assert_eq!(filters[0], "");
    assert_eq!(filters[1], id.as_str());
    assert!(
        filters[2]
            .as_str()
            .is_some_and(|l| l.starts_with("audited, renamed (")),
        "{filters}"
    );
    b.client.set_window_size(1280, 1200).await.expect("resize");
    b.js("document.getElementById('activity').scrollIntoView(); return true;")
        .await;
    b.screenshot("console-activity").await;
    // A phone-sized screen: events become cards too.
    b.client.set_window_size(390, 844).await.expect("resize");
    b.js("document.getElementById('activity').scrollIntoView(); return true;")
        .await;
    b.screenshot("console-activity-phone").await;
    b.client.set_window_size(1280, 900).await.expect("resize");

    // All keys again.
    b.choose("#activity-key", "").await;
    b.until(
        "every key's events",
        "return document.getElementById('activity-rows').children.length === 50;",
    )
    .await;
    assert_same_origin_only(&b).await;
    assert_no_secret_at_rest(&b, &[&admin, &made]).await;
    b.client.clone().close().await.expect("close the session");
}

/// Writes the usage counts the authorizer still holds, as on shutdown.
async fn flush_usage(s: &Stack) {
    let flushed = authorizer::flush_all(&s.app.state).await;
    assert_eq!(flushed.kept, 0, "every pending count was written");
}

/// Waits until `GET /auth/usage?owner_id=owner` (read from an eventually consistent index)
/// shows `allowed` allowed requests in all.
async fn owner_usage_settled(s: &Stack, admin: &str, owner: &str, allowed: u64) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let r = s
            .get(&format!("/api/v1/auth/usage?owner_id={owner}"), admin)
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        if r.body["total"]["allowed"].as_u64() == Some(allowed) {
            return;
        }
        assert!(Instant::now() < deadline, "{owner}'s usage: {}", r.text);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The `data-key-id` row's "Requests (30 d)" cell, once it shows a total: its text, title and
/// `data-*` counts.
async fn requests_cell(b: &Browser, id: &str, text: &str) -> Value {
    b.until(
        &format!("{text:?} requests in the row of {id}"),
        &format!(
            "var c = document.querySelector('tr[data-key-id=\"{id}\"] td.requests'); \
             return c && c.textContent === '{text}' && c.hasAttribute('data-allowed') && \
               {{ text: c.textContent, title: c.title, label: c.getAttribute('data-label'), \
                  allowed: c.getAttribute('data-allowed'), \
                  rate_limited: c.getAttribute('data-rate-limited'), \
                  denied: c.getAttribute('data-denied') }};"
        ),
    )
    .await
}

/// Script that sets `chart` to what the Usage dialog shows: the svg's label and size, each
/// bar's date, counts, title and drawn segments, the totals line and the empty note.
const USAGE_CHART: &str = "
    var svg = document.getElementById('usage-chart');
    var chart = svg && {
      label: svg.getAttribute('aria-label'),
      width: svg.getBoundingClientRect().width,
      max: svg.querySelector('.y-max') && svg.querySelector('.y-max').textContent,
      xLabels: svg.querySelectorAll('.x-label').length,
      bars: Array.prototype.map.call(svg.querySelectorAll('.usage-bar'), function (g) {
        return { date: g.getAttribute('data-date'), allowed: g.getAttribute('data-allowed'),
                 rate_limited: g.getAttribute('data-rate-limited'),
                 denied: g.getAttribute('data-denied'),
                 title: g.querySelector('title').textContent,
                 segments: Array.prototype.map.call(g.querySelectorAll('rect.seg'),
                   function (r) { return r.getAttribute('class'); }) };
      }),
      totals: document.getElementById('usage-totals').textContent,
      empty: !document.getElementById('usage-empty').hidden,
      title: document.getElementById('usage-title').textContent
    };";

/// SPEC §12 in the console: each key's allowed requests of the last 30 days in the list (the
/// others in its title), from one usage call per owner shown, refreshed with the list; the
/// Usage button draws the key's last 30 days as stacked bars, zeros included.
#[tokio::test]
async fn the_usage_view_charts_a_keys_last_30_days_and_the_list_shows_its_total() {
    let s = stack("usagechart").await;
    let (admin, _) = s.app.seed_key("admin", &["*", "admin"]).await;
    let (listener, listener_key) = s.app.seed_key("alice", &["podcasts:read"]).await;
    let (alice, idle) = s.app.seed_key("alice", &["*"]).await;
    s.app.seed("bob", &["podcasts:read"]).await;
    let id = listener_key.id.as_str().to_owned();
    let idle = idle.id.as_str().to_owned();
    let today = apikey::Day::of(s.app.state.clock.now()).to_string();

    // 5 allowed requests, 2 denied (the key may not list keys), then the counts are written.
    for _ in 0..5 {
        let (status, body) = podcast_status(&s, &listener).await;
        assert_eq!(status, 200, "{body}");
    }
    for _ in 0..2 {
        s.get("/api/v1/auth/api-keys", &listener)
            .await
            .error(403, "insufficient_scope");
    }
    flush_usage(&s).await;
    owner_usage_settled(&s, &admin, "alice", 5).await;
    testkit::settle(&s.app.state.store).await;

    // Signed in as an admin whose list shows three owners: one usage call per owner.
    let b = Browser::start("usagechart").await;
    b.client
        .goto(&format!("{}/console", s.base()))
        .await
        .expect("open the console");
    b.hold(None).await; // counts the page's calls
    b.type_into("#sign-in-key", &format!("{admin}{ENTER}"))
        .await;
    let cell = requests_cell(&b, &id, "5").await;
    assert_eq!(
        cell,
        json!({"text": "5", "title": "5 allowed, 0 rate limited, 2 denied in the last 30 days (UTC)",
               "label": "Requests (30\u{a0}d)", "allowed": "5", "rate_limited": "0", "denied": "2"})
    );
    assert_eq!(requests_cell(&b, &idle, "0").await["denied"], "0");
    let header = b
        .js("return document.querySelector('#key-table th.requests-col').textContent;")
        .await;
    assert_eq!(header, "Requests (30\u{a0}d)");
    for owner in ["admin", "alice", "bob"] {
        assert_eq!(
            b.calls(&format!("GET /api/v1/auth/usage?owner_id={owner}"))
                .await,
            1,
            "one usage call for {owner}"
        );
    }
    assert_eq!(b.calls("/api/v1/auth/usage").await, 3, "one call per owner");

    let fits = b
        .js("return document.documentElement.scrollWidth <= window.innerWidth;")
        .await;
    assert_eq!(fits, true, "the wider table still fits the page");
    b.screenshot("console-usage-list").await;

    // The Usage button: 30 bars, oldest first, today's last with the key's counts.
    b.click(&format!("tr[data-key-id=\"{id}\"] button.usage"))
        .await;
    let chart = b
        .until(
            "the usage chart",
            &format!(
                "{USAGE_CHART} return document.getElementById('usage-dialog').open && chart && \
                 chart.bars.length === 30 && chart;"
            ),
        )
        .await;
    let bars = chart["bars"].as_array().expect("bars");
    assert_eq!(bars.len(), 30, "{chart}");
    let last = &bars[29];
    assert_eq!(last["date"], today.as_str());
    assert_eq!(
        (&last["allowed"], &last["rate_limited"], &last["denied"]),
        (&json!("5"), &json!("0"), &json!("2"))
    );
    assert_eq!(
        last["title"],
        format!("{today}: 5 allowed, 0 rate limited, 2 denied")
    );
    assert_eq!(
        last["segments"],
        json!(["seg seg-allowed", "seg seg-denied"])
    );
    let mut dates: Vec<&str> = bars.iter().filter_map(|b| b["date"].as_str()).collect();
    assert!(dates.is_sorted(), "oldest first: {dates:?}");
    dates.dedup();
    assert_eq!(dates.len(), 30, "every day once");
    assert!(
        bars[..29]
            .iter()
            .all(|b| b["allowed"] == "0" && b["denied"] == "0" && b["segments"] == json!([])),
        "the earlier days are empty bars: {chart}"
    );
    assert_eq!(
        chart["totals"],
        "Last 30 days: 5 allowed, 0 rate limited, 2 denied"
    );
    assert_eq!(chart["empty"], false);
    assert_eq!(chart["max"], "10", "the y axis ends at a round number");
    assert!(chart["xLabels"].as_u64().is_some_and(|n| n >= 3), "{chart}");
    assert!(
        chart["label"]
            .as_str()
            .is_some_and(|l| l.contains("alice's key") && l.contains("5 allowed")),
        "{chart}"
    );
    assert_eq!(chart["title"], "Usage of “alice's key”");
    b.screenshot("console-usage").await;

    // A phone-sized screen: the chart is redrawn to the dialog's width.
    b.client.set_window_size(390, 844).await.expect("resize");
    let chart = b
        .until(
            "the chart at phone width",
            &format!("{USAGE_CHART} return chart && chart.width < 390 && chart;"),
        )
        .await;
    assert_eq!(chart["bars"].as_array().map(Vec::len), Some(30));
    b.screenshot("console-usage-phone").await;
    b.type_into("#usage-close", ESCAPE).await;
    b.until(
        "the dialog to close",
        "return !document.getElementById('usage-dialog').open;",
    )
    .await;
    let card = b
        .js(&format!(
            "var c = document.querySelector('tr[data-key-id=\"{id}\"] td.requests'); \
             c.scrollIntoView(); \
             return [getComputedStyle(c).display, c.getAttribute('data-label'), \
                     c.getBoundingClientRect().right <= window.innerWidth];"
        ))
        .await;
    assert_eq!(
        card,
        json!(["grid", "Requests (30\u{a0}d)", true]),
        "a labelled line of the card"
    );
    b.screenshot("console-usage-list-phone").await;
    b.client.set_window_size(1280, 900).await.expect("resize");

    // A key with no requests: 30 empty bars and the note.
    b.click(&format!("tr[data-key-id=\"{idle}\"] button.usage"))
        .await;
    let chart = b
        .until(
            "the empty chart",
            &format!(
                "{USAGE_CHART} return document.getElementById('usage-dialog').open && chart && \
                 chart.bars.length === 30 && chart;"
            ),
        )
        .await;
    assert_eq!(chart["empty"], true, "{chart}");
    assert_eq!(chart["max"], Value::Null, "no scale for nothing");
    assert!(
        chart["bars"]
            .as_array()
            .expect("bars")
            .iter()
            .all(|b| b["allowed"] == "0" && b["segments"] == json!([])),
        "{chart}"
    );
    assert_eq!(
        chart["totals"],
        "Last 30 days: 0 allowed, 0 rate limited, 0 denied"
    );
    let note = b
        .js("return document.getElementById('usage-empty').textContent;")
        .await;
    assert_eq!(note, "No requests in the last 30 days.");
    b.screenshot("console-usage-empty").await;
    b.click("#usage-close").await;

    // More requests; the list's totals follow when it reloads.
    for _ in 0..2 {
        let (status, _) = podcast_status(&s, &listener).await;
        assert_eq!(status, 200);
    }
    flush_usage(&s).await;
    owner_usage_settled(&s, &admin, "alice", 7).await;
    b.click("#refresh").await;
    assert_eq!(requests_cell(&b, &id, "7").await["allowed"], "7");
    assert_eq!(
        b.calls("/api/v1/auth/usage").await,
        6,
        "again one call per owner"
    );

    // A standard key: one usage call, for its own owner.
    b.click("#sign-out").await;
    b.type_into("#sign-in-key", &format!("{alice}{ENTER}"))
        .await;
    assert_eq!(requests_cell(&b, &id, "7").await["denied"], "2");
    assert_eq!(b.calls("/api/v1/auth/usage").await, 7);
    assert_eq!(
        b.calls("GET /api/v1/auth/usage?").await,
        6,
        "no owner named: the caller's own"
    );

    assert_same_origin_only(&b).await;
    assert_no_secret_at_rest(&b, &[&admin, &listener, &alice]).await;
    b.client.clone().close().await.expect("close the session");
}
