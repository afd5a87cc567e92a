//! Usage per key (SPEC §12): the authorizer counts every decision about a known key by UTC
//! day and outcome, writes the counts at most once per key-day per flush interval beside a
//! request's key read, and everything left when the container shuts down; the usage reads
//! show every day of a range, per key and per owner, with the owner rules of the key routes.

use std::sync::Arc;
use std::time::{Duration, Instant};

use apikey::{Day, UsageCounts};
use gateway::{DEFAULT_PLANS, parse_plans};
use keystore::UsageWrites;
use serde_json::{Value, json};

use crate::e2e::{Stack, stack_on};
use crate::helpers::{App, FIXTURE_KEY};

/// An app whose keys default to the unlimited plan, its usage written at most every
/// `flush_secs`, its usage writes counted.
async fn counted_app(label: &str, flush_secs: u64) -> (App, UsageWrites) {
    let (store, writes) = testkit::fresh_store(label).await.counting_usage_writes();
    let app = App::on_store(store, |c| {
        c.plans = parse_plans(DEFAULT_PLANS, "unlimited").expect("plans");
        c.usage_flush = Duration::from_secs(flush_secs);
    });
    (app, writes)
}

fn today(app: &App) -> String {
    Day::of(app.state.clock.now()).to_string()
}

/// Writes what the authorizer still holds, as on SIGTERM.
async fn shut_down(app: &App) {
    let flushed = authorizer::flush_all(&app.state).await;
    assert_eq!(flushed.kept, 0, "every pending count was written");
}

fn counts(v: &Value) -> UsageCounts {
    let n = |name: &str| v[name].as_u64().unwrap_or_else(|| panic!("{name} in {v}"));
    UsageCounts {
        allowed: n("allowed"),
        rate_limited: n("rate_limited"),
        denied: n("denied"),
    }
}

fn of(allowed: u64, rate_limited: u64, denied: u64) -> UsageCounts {
    UsageCounts {
        allowed,
        rate_limited,
        denied,
    }
}

/// The owner's usage once the index shows `expected` as the total (it is eventually
/// consistent), within 5 s.
async fn owner_usage_settled(s: &Stack, query: &str, key: &str, expected: UsageCounts) -> Value {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let r = s.get(&format!("/api/v1/auth/usage{query}"), key).await;
        assert_eq!(r.status, 200, "{}", r.text);
        if counts(&r.body["total"]) == expected || Instant::now() > deadline {
            return r.body;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn every_outcome_is_counted_per_key_and_day_and_read_back_with_every_day_present() {
    let (app, _) = counted_app("usage-outcomes", 3600).await;
    let plans = r#"{"tiny":{"requests_per_minute":2},"unlimited":{}}"#;
    let mut app = app;
    app.state.config.plans = parse_plans(plans, "unlimited").expect("plans");
    let s = stack_on(app, |g| g).await;
    s.app.start_of_a_minute();
    let (reader, reader_record) = s.app.seed_key("alice", &["keys:read"]).await;
    let (_, other_record) = s.app.seed_key("alice", &["*"]).await;
    // A tiny-plan key (admins choose plans): two allowed, then refused over the limit.
    let (admin, _) = s.app.seed_key("root", &["*", "admin"]).await;
    let tiny = s
        .create(
            &admin,
            json!({"name": "tiny", "scopes": ["podcasts:read"], "plan": "tiny", "owner_id": "alice"}),
        )
        .await;
    assert_eq!(tiny.status, 201, "{}", tiny.text);
    let tiny_key = tiny.body["key"].as_str().expect("key").to_owned();
    let tiny_id = tiny.body["id"].as_str().expect("id").to_owned();

    // The reader: 3 allowed (me, a listing, a get), 2 denied (no podcasts scope).
    for path in [
        "/api/v1/auth/me",
        "/api/v1/auth/api-keys",
        "/api/v1/auth/me",
    ] {
        assert_eq!(s.get(path, &reader).await.status, 200);
    }
    for _ in 0..2 {
        s.get("/api/v1/podcasts/1", &reader)
            .await
            .error(403, "insufficient_scope");
    }
    // The tiny key: 2 allowed, 3 rate limited.
    for i in 0..5 {
        let r = s.get("/api/v1/podcasts/1", &tiny_key).await;
        assert_eq!(r.status, if i < 2 { 200 } else { 429 }, "{}", r.text);
    }
    // Unknown and malformed keys belong to no key: not counted anywhere. (The unknown key
    // was once the reader's with its last character replaced by `x`, which is the reader's
    // own key whenever that character already was `x`: 1 run in 62 failed.)
    for key in [FIXTURE_KEY.to_owned(), format!("{reader}x")] {
        assert_eq!(s.get("/api/v1/auth/me", &key).await.status, 401, "{key}");
    }
    shut_down(&s.app).await;

    let r = s
        .get(
            &format!("/api/v1/auth/api-keys/{}/usage", reader_record.id),
            &reader,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let days = r.body["days"].as_array().expect("days");
    assert_eq!(days.len(), 30, "the last 30 days by default: {}", r.text);
    assert_eq!(days[29]["date"], today(&s.app));
    assert!(
        days[..29].iter().all(|d| counts(d) == of(0, 0, 0)),
        "earlier days are present with zeros: {}",
        r.text
    );
    // This very read was allowed after the flush: it is pending, not shown.
    assert_eq!(counts(&days[29]), of(3, 0, 2), "{}", r.text);
    assert_eq!(counts(&r.body["total"]), of(3, 0, 2));
    assert_eq!(r.body["key_id"], reader_record.id.as_str());
    assert_eq!(r.body["to"], today(&s.app));

    let r = s
        .get(
            &format!(
                "/api/v1/auth/api-keys/{tiny_id}/usage?from={}",
                today(&s.app)
            ),
            &reader,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["days"].as_array().map(Vec::len), Some(1));
    assert_eq!(counts(&r.body["total"]), of(2, 3, 0), "{}", r.text);

    // The owner's usage: both keys summed per day, each key's total; the unused key absent.
    // The reader's own usage read above is pending still (1 more allowed after the flush).
    let body = owner_usage_settled(&s, "", &reader, of(5, 3, 2)).await;
    assert_eq!(body["owner_id"], "alice");
    assert_eq!(counts(&body["total"]), of(5, 3, 2), "{body}");
    assert_eq!(body["days"].as_array().map(Vec::len), Some(30));
    assert_eq!(counts(&body["days"][29]), of(5, 3, 2));
    let keys = body["keys"].as_array().expect("keys");
    let total_of = |id: &str| {
        keys.iter()
            .find(|k| k["key_id"] == id)
            .map(|k| counts(&k["total"]))
    };
    assert_eq!(total_of(reader_record.id.as_str()), Some(of(3, 0, 2)));
    assert_eq!(total_of(&tiny_id), Some(of(2, 3, 0)));
    assert_eq!(total_of(other_record.id.as_str()), None, "{body}");
    assert_eq!(keys.len(), 2);

    // An admin reads alice's usage by owner; its own owner's by default.
    let body = owner_usage_settled(&s, "?owner_id=alice", &admin, of(5, 3, 2)).await;
    assert_eq!(counts(&body["total"]), of(5, 3, 2));
    let r = s.get("/api/v1/auth/usage", &admin).await;
    assert_eq!(r.body["owner_id"], "root", "{}", r.text);
}

#[tokio::test]
async fn a_thousand_requests_from_many_callers_count_exactly_with_one_write_per_interval() {
    const REQUESTS: usize = 1_000;
    const CALLERS: usize = 50;
    let (app, writes) = counted_app("usage-load", 1).await;
    let s = Arc::new(stack_on(app, |g| g).await);
    let (key, record) = s.app.seed_key("alice", &["podcasts:read"]).await;
    let started = Instant::now();
    let mut callers = Vec::new();
    for _ in 0..CALLERS {
        let (s, key) = (s.clone(), key.clone());
        callers.push(tokio::spawn(async move {
            for _ in 0..REQUESTS / CALLERS {
                let r = s.get("/api/v1/podcasts/1", &key).await;
                assert_eq!(r.status, 200, "{}", r.text);
            }
        }));
    }
    for c in callers {
        c.await.expect("caller");
    }
    let elapsed = started.elapsed();
    let during = writes.count();
    shut_down(&s.app).await;
    // One key, one day, one container: at most one write per started second, plus the
    // shutdown's.
    let intervals = usize::try_from(elapsed.as_secs()).unwrap_or(usize::MAX) + 1;
    assert!(
        during <= intervals,
        "{during} usage writes in {elapsed:?} (flush interval 1 s)"
    );
    assert!(writes.count() <= during + 1);
    assert_eq!(testkit::usage_count(&s.app.state.store).await, 1);

    let (admin, _) = s.app.seed_key("root", &["admin", "*"]).await;
    let r = s
        .get(
            &format!("/api/v1/auth/api-keys/{}/usage", record.id),
            &admin,
        )
        .await;
    assert_eq!(
        counts(&r.body["total"]),
        of(REQUESTS as u64, 0, 0),
        "{}",
        r.text
    );
    eprintln!(
        "usage load: {REQUESTS} requests from {CALLERS} callers in {elapsed:?}, \
         {during} usage writes while serving, {} in all",
        writes.count()
    );
}

#[tokio::test]
async fn counts_ride_along_a_later_request_once_the_interval_has_passed() {
    let (app, writes) = counted_app("usage-ride", 1).await;
    let s = stack_on(app, |g| g).await;
    let (quiet, quiet_record) = s.app.seed_key("alice", &["podcasts:read"]).await;
    let (busy, _) = s.app.seed_key("bob", &["keys:read"]).await;
    // One request on a low-traffic key, then nothing from it again.
    assert_eq!(s.get("/api/v1/podcasts/1", &quiet).await.status, 200);
    assert_eq!(writes.count(), 0, "kept in the container first");
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    // Any later request carries it, whoever's it is.
    assert_eq!(s.get("/api/v1/auth/me", &busy).await.status, 200);
    assert_eq!(writes.count(), 1);
    let usage = s
        .app
        .state
        .store
        .key_usage(
            &quiet_record.id,
            apikey::DayRange::parse(None, None, Day::of(s.app.state.clock.now())).expect("range"),
        )
        .await
        .expect("usage");
    assert_eq!(usage.last().copied(), Some(of(1, 0, 0)));
}

#[tokio::test]
async fn bad_usage_queries_are_400_403_or_404_and_write_nothing() {
    let (app, _) = counted_app("usage-bad", 3600).await;
    let s = stack_on(app, |g| g).await;
    let (alice, _) = s.app.seed_key("alice", &["keys:read"]).await;
    let (_, bob_record) = s.app.seed_key("bob", &["*"]).await;
    let (podcasts_only, _) = s.app.seed_key("carol", &["podcasts:read"]).await;
    let own = s.app.seed("alice", &["*"]).await;
    let key_usage = format!("/api/v1/auth/api-keys/{}/usage", own.id);
    let before = (s.app.items().await, s.app.audits().await);
    let cases: Vec<(String, u16, &str)> = vec![
        (
            format!("{key_usage}?from=2026-12-06&to=2026-12-05"),
            400,
            "invalid_request",
        ),
        (
            format!("{key_usage}?from=2025-01-01&to=2026-01-02"),
            400,
            "invalid_request",
        ),
        (
            format!("{key_usage}?from=2026-02-30"),
            400,
            "invalid_request",
        ),
        (format!("{key_usage}?to=yesterday"), 400, "invalid_request"),
        (
            format!("{key_usage}?from=2026-12-05T00:00:00Z"),
            400,
            "invalid_request",
        ),
        (
            format!("{key_usage}?owner_id=alice"),
            400,
            "invalid_request",
        ),
        (
            format!("{key_usage}?from=2026-12-01&from=2026-12-02"),
            400,
            "invalid_request",
        ),
        (
            format!("/api/v1/auth/api-keys/{}/usage", bob_record.id),
            404,
            "not_found",
        ),
        (
            "/api/v1/auth/api-keys/key_00000000000000000000/usage".into(),
            404,
            "not_found",
        ),
        (
            "/api/v1/auth/api-keys/nonsense/usage".into(),
            404,
            "not_found",
        ),
        ("/api/v1/auth/usage?owner_id=bob".into(), 403, "forbidden"),
        (
            "/api/v1/auth/usage?owner_id=".into(),
            400,
            "invalid_request",
        ),
        (
            "/api/v1/auth/usage?from=2024-01-01&to=2025-01-01".into(),
            400,
            "invalid_request",
        ),
        ("/api/v1/auth/usage?key_id=x".into(), 400, "invalid_request"),
    ];
    for (path, status, code) in &cases {
        s.get(path, &alice).await.error(*status, code);
    }
    s.get(&key_usage, &podcasts_only)
        .await
        .error(403, "insufficient_scope");
    s.get("/api/v1/auth/usage", &podcasts_only)
        .await
        .error(403, "insufficient_scope");
    let r = s
        .send("POST", &key_usage, &[("X-API-Key", &alice)], Some("{}"))
        .await;
    assert_eq!(r.status, 403, "a write needs keys:write first: {}", r.text);
    assert_eq!(
        (s.app.items().await, s.app.audits().await),
        before,
        "nothing was written"
    );
    shut_down(&s.app).await;
    // The refusals above were decisions about known keys: counted, and only them.
    assert!(testkit::usage_count(&s.app.state.store).await >= 1);
}

#[tokio::test]
async fn the_authorizer_binary_writes_its_pending_counts_when_lambda_shuts_it_down() {
    use crate::helpers::Event;
    use crate::lambda::{Stop, run_function};
    use gateway::routes::Function;

    let app = App::new("usage-sigterm").await;
    let (key, record) = app.seed_key("alice", &["podcasts:read"]).await;
    let allow = Event::authorizer_for("GET", "/api/v1/podcasts/1", &key);
    let deny = Event::authorizer_for("DELETE", "/api/v1/auth/api-keys/key_x", &key);
    let events = vec![allow.0.clone(), deny.0, allow.0];
    // Nothing is due for an hour: only the shutdown can write these.
    let never = [("USAGE_FLUSH_SECS", "3600")];
    let range = apikey::DayRange::parse(None, None, Day::of(apikey::Timestamp::now()))
        .expect("the last 30 days");
    let usage = || app.state.store.key_usage(&record.id, range);

    // Killed (a crash): the counts die with the container.
    let (answers, _) = run_function(
        &app,
        Function::Authorizer.binary(),
        events.clone(),
        &never,
        Stop::Kill,
    )
    .await;
    assert_eq!(answers.len(), 3);
    let total = |days: Vec<UsageCounts>| {
        days.into_iter().fold(UsageCounts::default(), |mut t, d| {
            t.add(d);
            t
        })
    };
    assert_eq!(total(usage().await.expect("usage")), of(0, 0, 0));

    // Shut down by Lambda (SIGTERM, after the extension registered): written before exit.
    let (answers, written) = run_function(
        &app,
        Function::Authorizer.binary(),
        events,
        &never,
        Stop::Terminate,
    )
    .await;
    assert_eq!(answers.len(), 3, "{written}");
    assert_eq!(
        total(usage().await.expect("usage")),
        of(2, 0, 1),
        "the shutdown flush wrote them:\n{written}"
    );
    assert!(written.contains("usage flushed on shutdown"), "{written}");
}
