//! Plans and rate limits end to end (SPEC §10): the local API Gateway with its usage plans,
//! the authorizer counting in DynamoDB Local, the functions and the echo backend, over HTTP.

use gateway::UsageKeys;
use serde_json::{Value, json};

use crate::e2e::{Reply, Stack, key_of, stack_on};
use crate::helpers::App;

const PLANS: &str = r#"{"burst5":{"requests_per_minute":5},"daily3":{"requests_per_day":3},"twenty":{"requests_per_minute":20},"unlimited":{}}"#;
const PODCAST: &str = "/api/v1/podcasts/1";

async fn app(label: &str) -> App {
    App::with_config(label, |config| {
        config.plans = gateway::parse_plans(PLANS, "unlimited").expect("plans");
    })
    .await
}

async fn limited_stack(label: &str) -> (Stack, String) {
    let s = stack_on(app(label).await, |g| g).await;
    let (admin, _) = s.app.seed_key("admin", &["*", "admin"]).await;
    (s, admin)
}

/// A key on `plan`, created over HTTP by the admin.
async fn key_on(s: &Stack, admin: &str, plan: &str) -> (String, String) {
    let r = s
        .create(admin, json!({"name": plan, "scopes": ["*"], "plan": plan}))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["plan"], plan);
    let id = r.body["id"].as_str().expect("id").to_owned();
    (key_of(&r), id)
}

async fn patch_plan(s: &Stack, admin: &str, id: &str, plan: &str) -> Reply {
    let body = json!({ "plan": plan }).to_string();
    s.send(
        "PATCH",
        &format!("/api/v1/auth/api-keys/{id}"),
        &[("X-API-Key", admin), ("Content-Type", "application/json")],
        Some(&body),
    )
    .await
}

fn figure(r: &Reply, name: &str) -> Option<i64> {
    r.header(name).and_then(|v| v.parse().ok())
}

/// SPEC §10's 429: the body, the figures, `Retry-After`.
#[track_caller]
fn assert_limited(r: &Reply, limit: i64, reset: i64) {
    r.error(429, "rate_limit_exceeded");
    let e = &r.body["error"];
    assert_eq!(
        (e["limit"].as_i64(), e["remaining"].as_i64()),
        (Some(limit), Some(0)),
        "{}",
        r.text
    );
    assert_eq!(e["reset"].as_i64(), Some(reset), "{}", r.text);
    let retry = e["retry_after"].as_i64().expect("retry_after");
    assert!(retry >= 1, "{}", r.text);
    assert_eq!(r.header("retry-after"), Some("60"));
}

#[tokio::test]
async fn a_burst_of_twelve_gets_five_through_and_the_rest_are_429s_with_the_spec_body() {
    let (s, admin) = limited_stack("rl_burst").await;
    let (key, _) = key_on(&s, &admin, "burst5").await;
    s.app.start_of_a_minute();
    let minute_end = (s.app.state.clock.now().epoch_secs() / 60 + 1) * 60;

    // podkeys' own answer: the headers and /auth/me's figures (this request counted).
    let me = s.get("/api/v1/auth/me", &key).await;
    assert_eq!(me.status, 200, "{}", me.text);
    assert_eq!(me.body["plan"], "burst5");
    assert_eq!(
        me.body["rate_limit"],
        json!({"limit": 5, "remaining": 4, "reset": minute_end})
    );
    assert_eq!(figure(&me, "x-ratelimit-limit"), Some(5));
    assert_eq!(figure(&me, "x-ratelimit-remaining"), Some(4));
    assert_eq!(figure(&me, "x-ratelimit-reset"), Some(minute_end));

    let mut through = 1;
    for i in 0..11 {
        let r = s.get(PODCAST, &key).await;
        if r.status == 200 {
            through += 1;
            // The backend received the figures and echoed them.
            assert_eq!(r.body["headers"]["x-podkeys-plan"], "burst5");
            assert_eq!(figure(&r, "x-ratelimit-remaining"), Some(4 - 1 - i));
        } else {
            assert_limited(&r, 5, minute_end);
        }
    }
    assert_eq!(through, 5, "exactly the plan's five");
    // The previous minute weighs in: a second into the next one all five still count, a
    // second before its end only one does.
    // (Set to one second past the minute's end, not moved by 60: the burst above may take
    // more than ten real seconds on a loaded machine, and then fewer than five counted.)
    s.app
        .advance(minute_end + 1 - s.app.state.clock.now().epoch_secs());
    let r = s.get(PODCAST, &key).await;
    assert_eq!(r.status, 429, "{}", r.text);
    s.app.advance(58);
    let r = s.get(PODCAST, &key).await;
    assert_eq!(r.status, 200, "{}", r.text);
}

#[tokio::test]
async fn a_three_a_day_key_gets_exactly_three_until_the_next_utc_day() {
    let (s, admin) = limited_stack("rl_daily").await;
    let (key, _) = key_on(&s, &admin, "daily3").await;
    s.app.start_of_a_minute();
    let midnight = (s.app.state.clock.now().epoch_secs() / 86_400 + 1) * 86_400;
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let r = s.get(PODCAST, &key).await;
        if r.status == 429 {
            assert_limited(&r, 3, midnight);
        }
        statuses.push(r.status);
    }
    assert_eq!(statuses, [200, 200, 200, 429, 429, 429]);
    s.app
        .advance(midnight - s.app.state.clock.now().epoch_secs() + 1);
    assert_eq!(s.get(PODCAST, &key).await.status, 200);
}

#[tokio::test]
async fn moving_a_key_to_an_unlimited_plan_lifts_its_limit_on_the_next_request() {
    let (s, admin) = limited_stack("rl_lift").await;
    let (key, id) = key_on(&s, &admin, "burst5").await;
    s.app.start_of_a_minute();
    for _ in 0..5 {
        assert_eq!(s.get(PODCAST, &key).await.status, 200);
    }
    assert_eq!(s.get(PODCAST, &key).await.status, 429);
    let r = patch_plan(&s, &admin, &id, "unlimited").await;
    assert_eq!(r.status, 200, "{}", r.text);
    // At once, whatever this container cached.
    let r = s.get(PODCAST, &key).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["headers"]["x-podkeys-plan"], "unlimited");
    assert_eq!(
        r.header("x-ratelimit-limit"),
        None,
        "no figures on an unlimited plan"
    );
    let me = s.get("/api/v1/auth/me", &key).await;
    assert_eq!((me.status, &me.body["rate_limit"]), (200, &Value::Null));
    assert_eq!(me.header("x-ratelimit-remaining"), None);
    // And back: the minute's five still count.
    assert_eq!(patch_plan(&s, &admin, &id, "burst5").await.status, 200);
    assert_eq!(s.get(PODCAST, &key).await.status, 429);
}

#[tokio::test]
async fn fifty_parallel_requests_on_a_twenty_a_minute_key_let_exactly_twenty_through() {
    let (s, admin) = limited_stack("rl_parallel").await;
    let (key, _) = key_on(&s, &admin, "twenty").await;
    s.app.start_of_a_minute();
    let s = std::sync::Arc::new(s);
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let (s, key) = (std::sync::Arc::clone(&s), key.clone());
            tokio::spawn(async move { s.get(PODCAST, &key).await.status })
        })
        .collect();
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.expect("task"));
    }
    let ok = statuses.iter().filter(|&&st| st == 200).count();
    let limited = statuses.iter().filter(|&&st| st == 429).count();
    assert_eq!((ok, limited), (20, 30), "{statuses:?}");
}

#[tokio::test]
async fn refused_requests_do_not_count_and_unlimited_keys_write_no_counter() {
    let (s, admin) = limited_stack("rl_refused").await;
    let r = s
        .create(
            &admin,
            json!({"name": "reader", "scopes": ["podcasts:read"], "plan": "burst5"}),
        )
        .await;
    let reader = key_of(&r);
    s.app.start_of_a_minute();
    // Denied for want of podcasts:write: 403, and not counted.
    for _ in 0..8 {
        let r = s
            .send(
                "POST",
                PODCAST,
                &[("X-API-Key", reader.as_str())],
                Some("{}"),
            )
            .await;
        r.error(403, "insufficient_scope");
    }
    for _ in 0..5 {
        assert_eq!(s.get(PODCAST, &reader).await.status, 200);
    }
    assert_eq!(s.get(PODCAST, &reader).await.status, 429);
    // The admin key is on the unlimited default plan: never a counter, never figures.
    let before = testkit::counter_count(&s.app.state.store).await;
    for _ in 0..3 {
        let r = s.get("/api/v1/auth/me", &admin).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.header("x-ratelimit-limit"), None);
    }
    assert_eq!(testkit::counter_count(&s.app.state.store).await, before);
    assert_eq!(before, 1, "the reader's counter only");
}

#[tokio::test]
async fn an_allow_naming_no_usage_plan_key_is_403_forbidden_like_api_gateway() {
    // The authorizer's USAGE_KEY_* and the gateway's plans disagree: a broken wiring fails.
    let app = app("rl_miswired").await;
    let s = stack_on(app, |g| {
        g.with_usage_keys(UsageKeys {
            unlimited: "another-stack-usage-unlimited".into(),
            blocked: "another-stack-usage-blocked".into(),
        })
    })
    .await;
    let (admin, _) = s.app.seed_key("admin", &["*", "admin"]).await;
    for path in [PODCAST, "/api/v1/auth/me"] {
        let r = s.get(path, &admin).await;
        r.error(403, "forbidden");
        assert_eq!(r.body["error"]["message"], "Forbidden");
    }
    // Public pages need no usage-plan key.
    let r = s.send("GET", "/api/openapi.json", &[], None).await;
    assert_eq!(r.status, 200);
}
