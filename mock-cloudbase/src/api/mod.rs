//! The HTTP side of the stub: one router (mounted on the wiremock server as a catch-all) and one module per
//! endpoint group.

mod controls;
mod http;
mod provider;
mod router;
mod session;
mod sms;
mod user;
mod wechat_page;

pub(crate) use router::Router;
