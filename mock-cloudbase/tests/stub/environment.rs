//! Environment-level rules: the Shanghai-only SMS region and switching login methods off.

use mock_cloudbase::{LoginMethod, MockCloudbase, SeedUser};
use serde_json::json;

use crate::helpers::{TestStub, PHONE};

#[tokio::test]
async fn sms_outside_shanghai_is_a_failed_precondition_naming_the_region_rule() {
    let t = TestStub::start().await;
    t.stub.set_region("ap-guangzhou");

    let description = t.send_code(PHONE).await.error(400, "failed_precondition");

    assert!(
        description.contains("only available in the ap-shanghai (Shanghai) region"),
        "{description}"
    );
    assert!(description.contains("ap-guangzhou"), "{description}");
    t.stub.set_region("ap-shanghai");
    t.send_code(PHONE).await.ok();
}

#[tokio::test]
async fn the_region_can_be_set_at_start() {
    let t = TestStub::from(MockCloudbase::builder().region("ap-beijing")).await;
    t.send_code(PHONE).await.error(400, "failed_precondition");
}

#[tokio::test]
async fn disabled_sms_login_is_refused_with_login_method_disabled() {
    let t = TestStub::start().await;
    t.stub.seed_user(SeedUser {
        phone: Some(PHONE.to_owned()),
        ..SeedUser::default()
    });
    let token = t.verification_token(PHONE).await;

    t.stub.disable_login_method(LoginMethod::Sms);

    let description = t.send_code(PHONE).await.error(403, "login_method_disabled");
    assert!(description.contains("SMS"), "{description}");
    t.post("/auth/v1/signin", json!({ "verification_token": token }))
        .await
        .error(403, "login_method_disabled");
    // Other methods are unaffected, and it can be switched back on.
    t.stub.enable_login_method(LoginMethod::Sms);
    t.post("/auth/v1/signin", json!({ "verification_token": token }))
        .await
        .ok();
}
