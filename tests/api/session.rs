//! The server-side session: renewal at sign-in, token refresh, revocation and restarts.

use std::time::Duration;

use mock_cloudbase::{Endpoint, SeedUser};
use reqwest::StatusCode;

use crate::helpers::*;

#[tokio::test]
async fn the_session_id_is_renewed_at_sign_in() {
    let app = spawn_app().await;
    app.send_code(PHONE).await;
    let before = app
        .session_cookie()
        .expect("a pre-sign-in session holds the pending code");
    let code = app.code_for(PHONE);
    app.verify(PHONE, &code, None).await;
    let after = app.session_cookie().expect("a signed-in session");
    assert_ne!(before, after);
    assert!(after.len() >= 22, "at least 128 bits: {after}");

    // The old id is worth nothing now.
    let planted = app
        .other_browser()
        .get(app.url("/api/profile"))
        .header(
            reqwest::header::COOKIE,
            format!("cloudbase_session={before}"),
        )
        .send()
        .await
        .expect("answer");
    assert_eq!(planted.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn page_views_make_no_cloudbase_call_and_the_profile_is_reread_after_five_minutes() {
    let app = spawn_app().await;
    app.sign_in(PHONE).await;
    let calls = app.stub.calls().len();
    for _ in 0..3 {
        assert_eq!(app.get("/").await.status(), StatusCode::OK);
        assert_eq!(app.get("/api/profile").await.status(), StatusCode::OK);
    }
    assert_eq!(
        app.stub.calls().len(),
        calls,
        "no CloudBase call for page views"
    );

    app.advance_clock(Duration::from_secs(5 * 60 + 1));
    assert_eq!(app.get("/").await.status(), StatusCode::OK);
    assert_eq!(app.get("/").await.status(), StatusCode::OK);
    assert_eq!(
        app.stub.calls_to(Endpoint::UserMe),
        2,
        "one at sign-in, one re-read"
    );
}

#[tokio::test]
async fn an_expired_access_token_is_refreshed_transparently() {
    let app = spawn_app().await;
    app.sign_in(PHONE).await;
    app.advance_clock(Duration::from_secs(2 * 60 * 60));

    let home = app.get("/").await;
    assert_eq!(home.status(), StatusCode::OK);
    assert_eq!(app.stub.calls_to(Endpoint::Token), 1);
    // The rotated token works: the next page needs no refresh and the profile call succeeds.
    assert_eq!(app.get("/api/profile").await.status(), StatusCode::OK);
    assert_eq!(app.stub.calls_to(Endpoint::Token), 1);
}

#[tokio::test]
async fn concurrent_requests_share_one_refresh() {
    let app = spawn_app().await;
    app.sign_in(PHONE).await;
    app.advance_clock(Duration::from_secs(2 * 60 * 60));

    let answers = futures::future::join_all((0..20).map(|_| app.get("/api/profile"))).await;
    for answer in answers {
        assert_eq!(answer.status(), StatusCode::OK);
    }
    assert_eq!(app.stub.calls_to(Endpoint::Token), 1);
}

#[tokio::test]
async fn a_revoked_sign_in_ends_the_session_at_the_next_refresh() {
    let app = spawn_app().await;
    let sub = app.stub.seed_user(SeedUser {
        phone: Some(PHONE.to_owned()),
        ..SeedUser::default()
    });
    app.sign_in(PHONE).await;
    assert_eq!(
        app.stub.calls_to(Endpoint::SignIn),
        1,
        "a seeded user signs in"
    );

    app.stub.revoke_all_for_user(&sub);
    app.advance_clock(Duration::from_secs(2 * 60 * 60));

    let home = app.get("/").await;
    assert_eq!(home.status(), StatusCode::FOUND);
    assert_eq!(location(&home), "/login?from=%2F");
    assert!(session_set_cookies(home.headers())
        .iter()
        .any(|c| c.contains("Max-Age=0")));
    assert_eq!(
        app.get("/api/profile").await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_transient_refresh_failure_keeps_the_person_signed_in() {
    let app = spawn_app().await;
    app.sign_in(PHONE).await;
    app.advance_clock(Duration::from_secs(2 * 60 * 60));
    app.stub
        .fail_next(Endpoint::Token, 1, mock_cloudbase::Fault::Status(503));
    assert_eq!(app.get("/").await.status(), StatusCode::OK);
    assert_eq!(app.get("/api/profile").await.status(), StatusCode::OK);
    assert_eq!(
        app.stub.calls_to(Endpoint::Token),
        2,
        "tried again on the next request"
    );
}

#[tokio::test]
async fn a_session_survives_restarting_the_app_on_the_same_database() {
    let (_dir, db) = temp_db();
    let stub = mock_cloudbase::MockCloudbase::start().await;
    let first = spawn_app_on(stub.clone(), |c| c.session_db = sqlite(&db)).await;
    first.sign_in(PHONE).await;
    let cookie = first.session_cookie().expect("signed in");
    drop(first);

    let second = spawn_app_on(stub, |c| c.session_db = sqlite(&db)).await;
    let answer = second
        .browser
        .get(second.url("/api/profile"))
        .header(
            reqwest::header::COOKIE,
            format!("cloudbase_session={cookie}"),
        )
        .send()
        .await
        .expect("answer");
    assert_eq!(answer.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_thirty_days_survive_every_later_save_of_the_session() {
    let app = spawn_app().await;
    app.sign_in(PHONE).await;
    // The profile is re-read and the session saved again.
    app.advance_clock(Duration::from_secs(5 * 60 + 1));
    let answer = app.get("/").await;
    assert_eq!(answer.status(), StatusCode::OK);
    let cookies = session_set_cookies(answer.headers());
    assert_eq!(cookies.len(), 1, "the session was saved: {cookies:?}");
    assert!(cookies[0].contains("Max-Age=2592000"), "{cookies:?}");

    // A refresh saves it too.
    app.advance_clock(Duration::from_secs(2 * 60 * 60));
    let answer = app.get("/").await;
    assert!(session_set_cookies(answer.headers())
        .iter()
        .all(|c| c.contains("Max-Age=2592000")));
}

#[tokio::test]
async fn a_guest_session_holding_a_pending_code_is_short_lived() {
    let app = spawn_app().await;
    let answer = app.send_code(PHONE).await;
    let cookies = session_set_cookies(answer.headers());
    assert!(
        cookies.iter().all(|c| c.contains("Max-Age=900")),
        "{cookies:?}"
    );
}
