//! A started stub with a reqwest client that speaks like the CloudBase web SDK, and a few flow helpers.

use std::time::Duration;

use mock_cloudbase::{MockCloudbase, MockCloudbaseBuilder};
use serde_json::{json, Value};

pub const PHONE: &str = "+86 13800000000";
pub const OTHER_PHONE: &str = "+86 13912345678";
/// A device id as the SDK makes them: 16–48 characters.
pub const DEVICE_ID: &str = "device-0123456789abcdef";

pub struct TestStub {
    pub stub: MockCloudbase,
    pub http: reqwest::Client,
}

/// An answer, read whole.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
    /// The body as JSON, `Null` if it is not JSON.
    pub body: Value,
}

impl Answer {
    pub async fn read(response: reqwest::Response) -> Answer {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.expect("the body arrives");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Answer {
            status,
            headers,
            text,
            body,
        }
    }

    /// Asserts a 200 and returns the body.
    pub fn ok(&self) -> &Value {
        assert_eq!(
            self.status, 200,
            "expected 200, got {}: {}",
            self.status, self.text
        );
        &self.body
    }

    /// Asserts an error envelope with this status and `error`, and returns its description.
    pub fn error(&self, status: u16, error: &str) -> String {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.text
        );
        assert_eq!(
            self.body["error"], error,
            "unexpected error; body: {}",
            self.text
        );
        assert!(
            self.body["error_code"].is_i64(),
            "error_code is a number: {}",
            self.text
        );
        self.body["error_description"]
            .as_str()
            .unwrap_or_else(|| panic!("error_description is a string: {}", self.text))
            .to_owned()
    }

    pub fn str(&self, field: &str) -> String {
        self.body[field]
            .as_str()
            .unwrap_or_else(|| panic!("{field} is a string in {}", self.text))
            .to_owned()
    }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(20))
        .build()
        .expect("a plain reqwest client builds")
}

impl TestStub {
    pub async fn start() -> TestStub {
        TestStub::from(MockCloudbase::builder()).await
    }

    pub async fn from(builder: MockCloudbaseBuilder) -> TestStub {
        TestStub {
            stub: builder.start().await,
            http: client(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.stub.uri())
    }

    /// A POST with a JSON body and no Content-Type, and an `x-device-id`, as the SDK sends it.
    pub async fn post(&self, path: &str, body: Value) -> Answer {
        self.send(
            self.http
                .post(self.url(path))
                .header("x-device-id", DEVICE_ID)
                .body(body.to_string()),
        )
        .await
    }

    /// A POST with a JSON body and no `x-device-id`.
    pub async fn post_without_device(&self, path: &str, body: Value) -> Answer {
        self.send(self.http.post(self.url(path)).body(body.to_string()))
            .await
    }

    /// A POST with this exact body and optional Content-Type.
    pub async fn post_raw(
        &self,
        path: &str,
        body: impl Into<reqwest::Body>,
        content_type: Option<&str>,
    ) -> Answer {
        let mut request = self
            .http
            .post(self.url(path))
            .header("x-device-id", DEVICE_ID)
            .body(body);
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        self.send(request).await
    }

    /// A GET with an `x-device-id`.
    pub async fn get(&self, path_and_query: &str) -> Answer {
        self.send(
            self.http
                .get(self.url(path_and_query))
                .header("x-device-id", DEVICE_ID),
        )
        .await
    }

    /// A GET with `Authorization: Bearer <token>`.
    pub async fn get_as(&self, path: &str, access_token: &str) -> Answer {
        self.send(self.http.get(self.url(path)).bearer_auth(access_token))
            .await
    }

    pub async fn send(&self, request: reqwest::RequestBuilder) -> Answer {
        Answer::read(request.send().await.expect("the stub answers")).await
    }

    // Flows.

    pub async fn send_code(&self, phone: &str) -> Answer {
        self.post(
            "/auth/v1/verification",
            json!({ "phone_number": phone, "target": "ANY" }),
        )
        .await
    }

    /// Sends a code and returns `(verification_id, code)`.
    pub async fn code_for(&self, phone: &str) -> (String, String) {
        let sent = self.send_code(phone).await;
        sent.ok();
        let code = self.stub.sms_code_for(phone).expect("a code was sent");
        (sent.str("verification_id"), code)
    }

    pub async fn verify(&self, verification_id: &str, code: &str) -> Answer {
        self.post(
            "/auth/v1/verification/verify",
            json!({ "verification_id": verification_id, "verification_code": code }),
        )
        .await
    }

    /// Sends, verifies, and returns the verification token.
    pub async fn verification_token(&self, phone: &str) -> String {
        let (id, code) = self.code_for(phone).await;
        self.verify(&id, &code).await.str("verification_token")
    }

    /// Signs a new phone user up and returns the credentials.
    pub async fn sign_up(&self, phone: &str) -> Value {
        let token = self.verification_token(phone).await;
        let answer = self
            .post(
                "/auth/v1/signup",
                json!({ "phone_number": phone, "verification_token": token }),
            )
            .await;
        answer.ok().clone()
    }

    pub async fn refresh(&self, refresh_token: &str) -> Answer {
        self.post(
            "/auth/v1/token",
            json!({
                "client_id": self.stub.env_id(),
                "client_secret": "",
                "grant_type": "refresh_token",
                "refresh_token": refresh_token,
            }),
        )
        .await
    }

    pub async fn user_me(&self, access_token: &str) -> Answer {
        self.get_as("/auth/v1/user/me", access_token).await
    }
}

/// A string field of a JSON value.
pub fn field(value: &Value, name: &str) -> String {
    value[name]
        .as_str()
        .unwrap_or_else(|| panic!("{name} is a string in {value}"))
        .to_owned()
}
